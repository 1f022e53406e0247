"""One StyleGAN2 training step as one public piece (StyleGAN2 paper, Sec. 3 and App. B; the
reference's `StyleGAN2Loss.accumulate_gradients` plus its optimizer steps): the phases of a step
(G main, lazy path-length, D main, lazy R1), the loss weights, the running path-length mean, style
mixing, the lazy-regularization Adam correction and the EMA generator. The training loop only
schedules steps; the benchmark drives the same object.

Every random draw comes from a generator seeded by (seed, step, phase, sub-batch), and the real
images by (seed, image count), so a step is a pure function of the state and its position.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch

from ..checkpoint.training_state import Counters
from ..devices import device_of
from ..errors import StyleforgeError
from ..models import Discriminator, Generator
from ..models.precision import LOW_PRECISION_DTYPES, set_mixed_precision
from . import distributed
from .config import TrainingConfig
from .loss import (SubBatch, discriminator_main_loss, generator_main_loss, path_length_penalty,
                   r1_penalty)
from .reals import RealImages


def derive_seed(*values: int) -> int:
    """A 63-bit seed from a tuple of ints (numpy SeedSequence hashing)."""
    return int(np.random.SeedSequence([int(v) for v in values]).generate_state(2, np.uint64)[0] >> 1)


def draw_fakes(config: TrainingConfig, G: Generator, step: int, phase: int, index: int, size: int):
    """(gen_z, mix_z, mixing cutoff, label rng) of one sub-batch: a pure function of its position.
    The cutoff is uniform in [1, num_ws) with probability style_mixing_prob, else num_ws (no mixing)."""
    rng = torch.Generator().manual_seed(derive_seed(config.seed, step, phase, index))
    gen_z = torch.randn([size, G.z_dim], generator=rng)
    mix_z = torch.randn([size, G.z_dim], generator=rng)
    cutoff = G.num_ws
    if torch.rand([], generator=rng).item() < config.style_mixing_prob:
        cutoff = int(torch.randint(1, G.num_ws, [], generator=rng).item())
    return gen_z, mix_z, cutoff, rng


def sample_sub_batch(config: TrainingConfig, G: Generator, reals: RealImages | None, step: int, phase: int,
                     index: int, size: int, real_start: int, label_pool: np.ndarray | None, device) -> SubBatch:
    """One sub-batch's inputs; `reals=None` for the generator phases, which use no real images."""
    gen_z, mix_z, cutoff, rng = draw_fakes(config, G, step, phase, index, size)
    gen_c = None
    if label_pool is not None:  # fake labels follow the dataset's label distribution
        picks = torch.randint(0, len(label_pool), [size], generator=rng).numpy()
        gen_c = torch.from_numpy(label_pool[picks]).to(device)
    real_img, real_c = reals.batch(real_start, size, device) if reals is not None else (None, None)
    noise = torch.Generator(device=device).manual_seed(derive_seed(config.seed, step, phase, index, 1))
    return SubBatch(real_img=real_img, real_c=real_c if G.c_dim and reals is not None else None,
                    gen_z=gen_z.to(device), gen_c=gen_c, mix_z=mix_z.to(device), mix_cutoff=cutoff,
                    generator=noise)


def lazy_adam(params, lr: float, interval: int | None) -> torch.optim.Adam:
    """Adam β=(0, 0.99), ε=1e-8, with the lazy-regularization correction lr·c, β^c, c = I/(I+1)
    (StyleGAN2 App. B)."""
    c = interval / (interval + 1) if interval else 1.0
    params = list(params)
    fused = all(p.device.type in ("cpu", "cuda") and p.dtype == torch.float32 for p in params)  # one kernel
    return torch.optim.Adam(params, lr=lr * c, betas=(0.0, 0.99 ** c), eps=1e-8, fused=fused or None)


@torch.no_grad()
def update_ema(G_ema: Generator, G: Generator, config: TrainingConfig, cur_nimg: int, batch: int) -> None:
    """G_ema ← lerp(G, G_ema, β), β = 0.5^(batch / ema_nimg), ema_nimg ≤ cur_nimg·rampup (reference)."""
    ema_nimg = config.ema_kimg * 1000
    if config.ema_rampup is not None:
        ema_nimg = min(ema_nimg, cur_nimg * config.ema_rampup)
    beta = 0.5 ** (batch / max(ema_nimg, 1e-8))
    for p_ema, p in zip(G_ema.parameters(), G.parameters()):
        p_ema.copy_(p.detach().lerp(p_ema, beta))
    for b_ema, b in zip(G_ema.buffers(), G.buffers()):
        b_ema.copy_(b)


def frozen_parameters(D: Discriminator, count: int) -> set[int]:
    """Ids of the parameters of D's first `count` layers (input side), for fine-tuning."""
    layers = []
    for block in D.blocks():
        layers += [m for m in (block.from_rgb, block.conv) if m is not None]
        layers.append([block.conv_down] + ([block.skip] if block.skip is not None else []))
    frozen = set()
    for layer in layers[:count]:
        for module in (layer if isinstance(layer, list) else [layer]):
            frozen.update(id(p) for p in module.parameters())
    return frozen


@dataclass(frozen=True)
class BatchLayout:
    """How one global batch splits into sub-batches (processes × accumulation rounds)."""

    batch: int              # global batch
    batch_gpu: int          # images per sub-batch
    num_sub_batches: int    # over all processes
    mine: list              # indices of this process's sub-batches
    pl_count: int           # images in one path-length phase, over all processes

    @classmethod
    def plan(cls, config: TrainingConfig, world: int, rank: int, mbstd_group: int | None) -> "BatchLayout":
        """The layout of `config.batch` over `world` processes, checked against D's minibatch-stddev
        group (each sub-batch must be a multiple of it)."""
        batch = config.batch
        if batch % world:
            raise StyleforgeError(f"--batch {batch} is not divisible by the {world} processes")
        per_rank = batch // world
        batch_gpu = config.batch_gpu or per_rank
        if per_rank % batch_gpu:
            raise StyleforgeError(f"--batch-gpu {batch_gpu} must divide the per-process batch {per_rank}")
        if mbstd_group is not None and batch_gpu % min(mbstd_group, batch_gpu):
            raise StyleforgeError(f"--batch-gpu {batch_gpu} is not a multiple of the minibatch-stddev "
                                  f"group size {mbstd_group}")
        rounds = per_rank // batch_gpu
        return cls(batch=batch, batch_gpu=batch_gpu, num_sub_batches=world * rounds,
                   mine=[rank * rounds + r for r in range(rounds)],
                   pl_count=world * rounds * max(1, batch_gpu // config.pl_batch_shrink))


class LossStats:
    """Running sums of per-sample losses between log lines, and the first loss that was NaN / Inf."""

    def __init__(self):
        self.sums: dict[str, list[float]] = {}
        self.non_finite: str | None = None

    def add(self, name: str, values: torch.Tensor) -> None:
        entry = self.sums.setdefault(name, [0.0, 0.0])
        total = float(values.detach().float().sum())
        if not np.isfinite(total) and self.non_finite is None:
            self.non_finite = name
        entry[0] += total
        entry[1] += values.numel()

    def means(self, ctx) -> dict:
        names = sorted(self.sums)
        totals = torch.tensor([v for n in names for v in self.sums[n]], dtype=torch.float64, device=ctx.device)
        distributed.all_reduce_sum([totals], ctx)
        totals = totals.cpu()
        self.sums = {}
        return {n: totals[2 * i].item() / max(totals[2 * i + 1].item(), 1) for i, n in enumerate(names)}


def autocast_for(config: TrainingConfig, device: torch.device):
    """The autocast context of the configured precision (none for fp32 and the mixed policies, which
    set the dtype per block instead: models.precision)."""
    if config.precision == "fp32" or config.precision.startswith("mixed"):
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if config.precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


class TrainingStep:
    """Owns what one optimizer step needs besides the data: G, D, G_ema, both lazy Adams, the
    path-length mean, the loss weights and intervals (from the config), the batch layout, and the
    loss statistics. `run(counters, reals, label_pool)` performs one whole step."""

    def __init__(self, config: TrainingConfig, G: Generator, D: Discriminator, G_ema: Generator,
                 layout: BatchLayout, ctx, frozen: set[int] = frozenset()):
        self.config, self.G, self.D, self.G_ema = config, G, D, G_ema
        self.layout, self.ctx, self.frozen = layout, ctx, frozen
        for p in D.parameters():
            p.requires_grad_(id(p) not in frozen)
        self.opt_G = lazy_adam(G.parameters(), config.glr, config.g_reg_interval if config.pl_weight > 0 else None)
        self.opt_D = lazy_adam([p for p in D.parameters() if id(p) not in frozen], config.dlr,
                               config.d_reg_interval if config.gamma > 0 else None)
        self.pl_mean = torch.zeros([], device=ctx.device)
        self.stats = LossStats()
        self.autocast = autocast_for(config, ctx.device)
        if config.precision.startswith("mixed"):  # the reference's policy; G_ema stays fp32 for evaluation
            dtype = LOW_PRECISION_DTYPES["bf16" if config.precision == "mixed-bf16" else "fp16"]
            if not set_mixed_precision(G, D, dtype=dtype):
                raise StyleforgeError(f"--precision {config.precision} switches the num_fp16_res highest "
                                      "resolutions, and this model has num_fp16_res 0 (use a reference "
                                      "preset such as paper256, or fp32 / bf16 / fp16)")

    @classmethod
    def create(cls, config: TrainingConfig, G: Generator, D: Discriminator, ctx) -> "TrainingStep":
        """The step of a run, wired as every caller (the loop, the benchmark, the tests) needs it: G and
        D on the context's device in train mode (channels-last on CUDA when asked), a fresh G_ema, the
        batch layout of this process and the frozen D layers (--freeze-d)."""
        G, D = G.to(ctx.device).train(), D.to(ctx.device).train()
        if config.channels_last and ctx.device.type == "cuda":  # NHWC weights for tensor-core convs
            G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
        layout = BatchLayout.plan(config, ctx.world_size, ctx.rank, D.config.mbstd_group_size)
        return cls(config, G, D, ema_copy(G), layout, ctx, frozen_parameters(D, config.freeze_d))

    def phases(self, step: int) -> list[tuple[str, str]]:
        """The phases of step `step`: G main, PL every g_reg_interval, D main, R1 every d_reg_interval."""
        config = self.config
        phases = [("G", "main")]
        if config.pl_weight > 0 and step % config.g_reg_interval == 0:
            phases.append(("G", "reg"))
        phases.append(("D", "main"))
        if config.gamma > 0 and step % config.d_reg_interval == 0:
            phases.append(("D", "reg"))
        return phases

    def run(self, counters: Counters, reals: RealImages, label_pool: np.ndarray | None = None) -> None:
        """One optimizer step: every phase, the EMA update, then the counters move on by one batch."""
        for phase_index, phase in enumerate(self.phases(counters.step)):
            self.run_phase(phase, phase_index, counters, reals, label_pool)
        update_ema(self.G_ema, self.G, self.config, counters.cur_nimg, self.layout.batch)
        counters.cur_nimg += self.layout.batch
        counters.step += 1

    def run_phase(self, phase: tuple[str, str], phase_index: int, counters: Counters, reals: RealImages,
                  label_pool: np.ndarray | None) -> None:
        """One phase of one step: accumulate the gradients of this process's sub-batches (loss × its
        weight × the lazy interval), sum them over processes, clean NaN/Inf as the reference does,
        take the optimizer step, and update w_avg (G main) or the path-length mean (G reg)."""
        config, G, D, layout, ctx = self.config, self.G, self.D, self.layout, self.ctx
        net, _ = phase
        module, optimizer = (G, self.opt_G) if net == "G" else (D, self.opt_D)
        G.requires_grad_(net == "G")
        for p in D.parameters():
            p.requires_grad_(net == "D" and id(p) not in self.frozen)
        optimizer.zero_grad(set_to_none=True)
        w_sum = torch.zeros([G.w_dim], device=ctx.device)
        length_sum = torch.zeros([], device=ctx.device)
        batch = layout.batch
        for s in layout.mine:
            sub = sample_sub_batch(config, G, reals if net == "D" else None, counters.step, phase_index, s,
                                   layout.batch_gpu, counters.cur_nimg + s * layout.batch_gpu, label_pool,
                                   ctx.device)
            with self.autocast:
                if phase == ("G", "main"):
                    loss, w = generator_main_loss(G, D, sub)
                    (loss.float().sum() / batch).backward()
                    w_sum += w.float().sum(0)
                    self.stats.add("loss/G", loss)
                elif phase == ("G", "reg"):
                    penalty, lengths = path_length_penalty(G, sub, self.pl_mean, config.pl_batch_shrink,
                                                           config.pl_decay)
                    (penalty.float().sum() * config.pl_weight * config.g_reg_interval / layout.pl_count).backward()
                    length_sum += lengths.float().mean()
                    self.stats.add("loss/pl_penalty", penalty)
                elif phase == ("D", "main"):
                    loss = discriminator_main_loss(G, D, sub)
                    (loss.float().sum() / batch).backward()
                    self.stats.add("loss/D", loss)
                else:
                    r1 = r1_penalty(D, sub)
                    (r1.float().sum() * (config.gamma / 2) * config.d_reg_interval / batch).backward()
                    self.stats.add("loss/r1_penalty", r1)
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        distributed.all_reduce_sum(grads + [w_sum, length_sum], ctx)
        for g in grads:  # guard against NaN / Inf as the reference does
            torch.nan_to_num_(g, nan=0, posinf=1e5, neginf=-1e5)
        optimizer.step()
        if phase == ("G", "main"):
            G.mapping.track_w_avg((w_sum / batch)[None])
        elif phase == ("G", "reg"):
            self.pl_mean.copy_(self.pl_mean.lerp(length_sum / layout.num_sub_batches, config.pl_decay))


def build_networks(g_config, d_config, seed: int) -> tuple[Generator, Discriminator]:
    """(G, D) of a new run, initialized from `seed` (the same draws in the loop and the benchmark)."""
    torch.manual_seed(seed)
    return Generator(g_config), Discriminator(d_config)


def ema_copy(G: Generator) -> Generator:
    """A frozen, eval-mode copy of G (the start of the EMA generator)."""
    G_ema = Generator(G.config).to(device_of(G)).eval()
    G_ema.load_state_dict(G.state_dict())
    return G_ema.requires_grad_(False)
