"""What every command prints on failure, and the model libraries' output that none of them shows."""

from __future__ import annotations

import os
import sys
import warnings

from nlp_service.batch import EXIT_USAGE


def error(message: str, code: int = EXIT_USAGE) -> int:
    """Print ``nlp-service: error: message`` on stderr; returns ``code`` for the caller to return."""
    print(f"nlp-service: error: {message}", file=sys.stderr)
    return code


def quiet_libraries() -> None:
    """No 'Loading weights' bars or deprecation FutureWarnings from the model libraries: they are not the
    user's to act on, and they drown the batch script's own progress bar (set before transformers loads)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    for module in ("transformers", "peft", "accelerate", "torch"):
        warnings.filterwarnings("ignore", category=FutureWarning, module=rf"{module}(\.|$)")
    if "transformers" in sys.modules:  # already imported (a test, a notebook): tell it directly
        # lazy: transformers is heavy; it is only told when something else has already loaded it
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
