"""Topic classification: IPTC themes, UN M49 sub-regions and countries for news articles. ``TopicClassifier``
serves a checkpoint folder (``ClassifierConfig``); the rules between its model and the reported labels are
``nlp_service.classify.decision``; ``OwnThemeClassifier`` puts a user's own labels in place of the IPTC themes."""

from nlp_service.classify.checkpoint import CheckpointError, ClassifierConfig
from nlp_service.classify.classifier import TopicClassifier, serving_encoder
from nlp_service.classify.cues import cue_hits
from nlp_service.classify.lexical import LexicalModel
from nlp_service.classify.model import TopicModel, build_model, lora_targets, save_checkpoint, serving_model
from nlp_service.classify.own_themes import OwnThemeClassifier, OwnThemeHeads, OwnThemesConfig

__all__ = [
    "CheckpointError", "ClassifierConfig", "LexicalModel", "OwnThemeClassifier", "OwnThemeHeads", "OwnThemesConfig",
    "TopicClassifier", "TopicModel", "build_model", "cue_hits", "lora_targets", "save_checkpoint", "serving_encoder",
    "serving_model",
]
