"""Training: the StyleGAN2 procedure, run directories with exact resume, multi-process data parallel."""

from .config import TRAINING_PRESETS, TrainingConfig, training_config
from .loop import TrainResult, train

__all__ = ["train", "TrainResult", "TrainingConfig", "training_config", "TRAINING_PRESETS"]
