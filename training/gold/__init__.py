"""The general-news gold set: labels we annotated (``training/data/gold``), joined to texts in the installed
data packages. Guideline: docs/annotation.md."""
