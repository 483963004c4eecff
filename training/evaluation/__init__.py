"""Evaluation of the classifier and the summariser on held-out data (reports/)."""
