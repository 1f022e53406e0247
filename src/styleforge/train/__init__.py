"""Training: the StyleGAN2 procedure, run directories with exact resume, multi-process data parallel.

`train` and `TrainResult` (the loop, which needs torch) are resolved on first use (PEP 562), so the
presets and the config can be read without it."""

import importlib

from .config import TRAINING_PRESETS, TrainingConfig, training_config

__all__ = ["train", "TrainResult", "TrainingDiverged", "TrainingConfig", "training_config", "TRAINING_PRESETS"]


def __getattr__(name: str):
    if name in ("train", "TrainResult", "TrainingDiverged"):
        return getattr(importlib.import_module("styleforge.train.loop"), name)
    raise AttributeError(f"module 'styleforge.train' has no attribute {name!r}")
