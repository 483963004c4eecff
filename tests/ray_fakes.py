"""Analyzer factories for Ray actors in the tests (imported by the actor processes, so a module of its own).

``slow_fake`` builds the fake components of conftest with a per-article delay, so a run lasts long enough to be
killed in the middle, and notes its process id in ``pid_dir`` so a test can kill the actor.
"""

from __future__ import annotations

import os
from pathlib import Path

from conftest import FakeClassifier, FakeSummarizer

from nlp_service.analyzer import Analyzer


def slow_fake(pid_dir: str, delay: float) -> Analyzer:
    Path(pid_dir).mkdir(parents=True, exist_ok=True)
    (Path(pid_dir) / f"{os.getpid()}-{os.urandom(4).hex()}").write_text(str(os.getpid()))
    return Analyzer(classifier=FakeClassifier(delay=delay), summarizer=FakeSummarizer())


def broken(reason: str) -> Analyzer:
    """An actor whose models cannot load."""
    raise OSError(reason)
