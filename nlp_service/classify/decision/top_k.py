"""The ``top_k`` cut: a caller's cap on how many labels each list of a record (countries, regions, themes) holds.

It is the last step between the decisions and the record: the lists are sorted best first, so the cut keeps the
most likely labels, and it never changes a score or lets in a label the thresholds rejected."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")

# No cap unless the caller asks: the thresholds decide what is reported, not a fixed count of labels.
DEFAULT_TOP_K: int | None = None


def cut_top_k(tags: list[T], top_k: int | None) -> list[T]:
    """The first ``top_k`` of ``tags`` (best first); all of them when ``top_k`` is None or 0."""
    return tags[:top_k] if top_k else tags
