"""Turning labelled data into the artefacts in checkpoints/. Uses nlp_service's taxonomy and model code so that
what is trained is exactly what is served."""
