"""Training configuration and presets. Reference values come from stylegan2-ada-pytorch's
train.py (cfg_specs): batch, minibatch-stddev group, learning rate, R1 γ, EMA half-life and ramp-up,
mapping depth; the StyleGAN2 paper gives the regularizer settings (Sec. 3.1, 3.2, App. B)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..config import dataclass_from_dict, preset_config
from ..errors import StyleforgeError

PRECISIONS = ("fp32", "bf16", "fp16", "mixed", "mixed-bf16")


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that determines a training run (stored in the run directory and checkpoints)."""

    preset: str = "small"                  # Model + hyper-parameter preset (see TRAINING_PRESETS).
    data: str = "toyfaces"                 # 'toyfaces' or a folder / zip of images.
    resolution: int | None = None          # Image size; None = the dataset's (toyfaces: the preset's).
    cond: bool = False                     # Train a conditional model on the dataset's labels.
    mirror: bool = False                   # Random x-flips of the real images.
    max_size: int | None = None            # Use at most this many dataset images.
    batch: int = 32                        # Global batch size (all processes, all accumulation rounds).
    batch_gpu: int | None = None           # Images per forward pass per process; None = batch / world.
    kimg: float = 25000                    # Length of training in thousands of real images.
    glr: float = 0.002                     # Generator learning rate.
    dlr: float = 0.002                     # Discriminator learning rate.
    gamma: float = 10.0                    # R1 weight γ (the penalty is γ/2·|∇D|², StyleGAN2 Sec. 3.1).
    pl_weight: float = 2.0                 # Path-length regularization weight (Sec. 3.2).
    pl_batch_shrink: int = 2               # PL uses batch / shrink images.
    pl_decay: float = 0.01                 # Decay of the running PL mean a.
    style_mixing_prob: float = 0.9         # Style-mixing regularization probability (StyleGAN Sec. 3.1).
    g_reg_interval: int = 4                # Lazy PL every N minibatches (Sec. 3.1).
    d_reg_interval: int = 16               # Lazy R1 every N minibatches.
    ema_kimg: float = 10.0                 # Half-life of the generator EMA in kimg.
    ema_rampup: float | None = None        # EMA ramp-up: half-life ≤ cur_nimg · rampup (None = off).
    seed: int = 0                          # Seed of every random draw.
    snapshot_kimg: float = 4.0             # Interval of snapshots (grids, checkpoints, exports).
    keep_checkpoints: int = 3              # Training-state checkpoints kept (oldest removed).
    max_minutes: float | None = None       # Wall-clock budget; the run stops cleanly when reached.
    precision: str = "fp32"                # fp32; bf16 / fp16 autocast; mixed(-bf16): num_fp16_res blocks in fp16 (bf16).
    tf32: bool = False                     # Allow TF32 matmuls on CUDA.
    workers: int = 0                       # Image-reading worker processes; 1 = a thread; 0 = auto (CPU 1, CUDA ≤ 8).
    channels_last: bool = False            # channels-last memory format on CUDA.
    freeze_d: int = 0                      # Freeze the first N layers of D (fine-tuning).
    init_from: str | None = None           # Start from a pretrained model file.
    metrics: tuple = ("auto",)             # Evaluated on G_ema at each snapshot; 'auto': fid50k_full on a
    #                                        CUDA device with Inception weights on disk, else swd1k.
    g_overrides: dict = field(default_factory=dict)  # Generator config overrides.
    d_overrides: dict = field(default_factory=dict)  # Discriminator config overrides.

    def validate(self) -> "TrainingConfig":
        if self.preset not in TRAINING_PRESETS:
            raise StyleforgeError(f"unknown preset {self.preset!r}; choose from {', '.join(TRAINING_PRESETS)}")
        if self.batch < 1 or (self.batch_gpu is not None and (self.batch_gpu < 1 or self.batch % self.batch_gpu)):
            raise StyleforgeError(f"--batch {self.batch} must be a positive multiple of --batch-gpu")
        if self.precision not in PRECISIONS:
            raise StyleforgeError(f"--precision must be one of {', '.join(PRECISIONS)}")
        if self.workers < 0:
            raise StyleforgeError("--workers must be >= 0 (0 = auto)")
        if self.kimg <= 0 or self.snapshot_kimg <= 0:
            raise StyleforgeError("--kimg and --snap must be positive")
        if min(self.glr, self.dlr) <= 0 or self.gamma < 0 or self.pl_weight < 0:
            raise StyleforgeError("learning rates must be > 0 and --gamma, --pl-weight >= 0")
        if self.pl_weight > 0 and self.pl_batch_shrink < 1:
            raise StyleforgeError("pl_batch_shrink must be >= 1")
        if not all(isinstance(name, str) and name for name in self.metrics):
            raise StyleforgeError("metrics must be a list of metric names")
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainingConfig":
        return dataclass_from_dict(cls, data, "training option(s)", tuple_fields=("metrics",))

    def model_configs(self, resolution: int, img_channels: int, c_dim: int):
        """(G config, D config) of the preset at this resolution, with the overrides applied."""
        spec = TRAINING_PRESETS[self.preset]
        common = dict(resolution=resolution, channels=img_channels, c_dim=c_dim)
        g = preset_config(spec["model"], "G", **{**common, **spec.get("G", {}), **self.g_overrides})
        d = preset_config(spec["model"], "D", **{**common, **spec.get("D", {}), **self.d_overrides})
        return g, d


# Hyper-parameters per preset; `model` names the model preset in styleforge.config.
TRAINING_PRESETS: dict[str, dict] = {
    "stylegan2": dict(model="stylegan2", batch=32, glr=0.002, dlr=0.002, gamma=10, ema_kimg=10),
    "paper256": dict(model="paper256", batch=64, glr=0.0025, dlr=0.0025, gamma=1, ema_kimg=20),
    "paper512": dict(model="paper512", batch=64, glr=0.0025, dlr=0.0025, gamma=0.5, ema_kimg=20),
    "paper1024": dict(model="paper1024", batch=32, glr=0.002, dlr=0.002, gamma=2, ema_kimg=10),
    "cifar": dict(model="cifar", batch=64, glr=0.0025, dlr=0.0025, gamma=0.01, ema_kimg=500,
                  ema_rampup=0.05, pl_weight=0.0, style_mixing_prob=0.0),
    # Ours: short CPU runs need a short EMA half-life with ramp-up and a higher learning rate.
    # Ours: short CPU runs. Batch 16 doubles the optimizer steps per image; γ=1 keeps D smooth enough
    # that G does not chase high-frequency noise (γ=0.05 gave speckled faces at 20 kimg).
    "small": dict(model="small", batch=16, glr=0.0025, dlr=0.0025, gamma=1.0, ema_kimg=1,
                  ema_rampup=0.05, snapshot_kimg=4, metrics=()),
    "tiny": dict(model="tiny", batch=8, glr=0.002, dlr=0.002, gamma=0.01, ema_kimg=0.5,
                 ema_rampup=0.05, snapshot_kimg=1, metrics=()),
}


def training_config(preset: str = "small", **options) -> TrainingConfig:
    """A TrainingConfig from a preset's hyper-parameters with explicit options on top (None = keep)."""
    if preset not in TRAINING_PRESETS:
        raise StyleforgeError(f"unknown preset {preset!r}; choose from {', '.join(TRAINING_PRESETS)}")
    values = {k: v for k, v in TRAINING_PRESETS[preset].items() if k != "model"}
    values.update({k: v for k, v in options.items() if v is not None})
    return TrainingConfig.from_dict({"preset": preset, **values})
