"""The StyleGAN2 training loop (StyleGAN2 paper, App. B; the reference's training procedure).

Every random draw comes from a generator seeded by (seed, step, phase, sub-batch), and the real
images by (seed, image count), so a run is a pure function of its config: resuming from a checkpoint
continues exactly, and N processes compute the same update as one process with the same global batch
split into the same sub-batches.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..checkpoint import load_networks, save
from ..checkpoint.state import check_finite
from ..errors import StyleforgeError
from ..latents import z_from_seeds
from ..models import Discriminator, Generator
from ..render import make_grid, save_image, to_uint8
from . import distributed
from .config import TrainingConfig
from .loss import (SubBatch, discriminator_main_loss, generator_main_loss, path_length_penalty,
                   r1_penalty)
from .rundir import RunLock, create_run_dir, prune_checkpoints, resume_candidates
from .state import (Counters, model_configs_of, read_training_state, restore_training_state,
                    save_training_state)
from .tensorboard import EventWriter

GRID_SEEDS = 32


@dataclass
class TrainResult:
    run_dir: Path | None
    status: str                     # "done", "time-limit" or "interrupted"
    cur_nimg: int
    snapshot: Path | None = None    # the last exported G_ema model file
    networks: dict = field(default_factory=dict)  # the final G, G_ema and D


class TrainingDiverged(StyleforgeError):
    """A loss or the weights became NaN / Inf; the run stopped without writing that state."""


# Options that may differ from the stored run on resume (length, budget, snapshots, evaluation).
RESUMABLE = ("kimg", "max_minutes", "snapshot_kimg", "metrics", "keep_checkpoints")


def derive_seed(*values: int) -> int:
    """A 63-bit seed from a tuple of ints (numpy SeedSequence hashing)."""
    return int(np.random.SeedSequence([int(v) for v in values]).generate_state(2, np.uint64)[0] >> 1)


class RealImages:
    """Real images in a fixed pseudo-random order: image number n of the run is a pure function of
    (seed, n), so resuming needs only the image count. Infinite datasets are read in order."""

    def __init__(self, dataset, seed: int, mirror: bool):
        self.dataset, self.seed, self.mirror = dataset, seed, mirror
        self.size = len(dataset)
        self.infinite = self.size >= 2 ** 30
        self._epoch, self._order = None, None

    def index(self, n: int) -> int:
        if self.infinite:
            return n
        epoch, position = divmod(n, self.size)
        if epoch != self._epoch:
            self._epoch = epoch
            self._order = np.random.default_rng([self.seed, epoch]).permutation(self.size)
        return int(self._order[position])

    def batch(self, start: int, count: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        """(images [count, C, H, W] in [-1, 1], labels [count, c_dim]) for images start..start+count."""
        images, labels = [], []
        for n in range(start, start + count):
            i = self.index(n)
            image = self.dataset.image(i)
            if self.mirror and np.random.default_rng([self.seed, 1, n]).random() < 0.5:
                image = image[:, :, ::-1]
            images.append(np.ascontiguousarray(image))
            labels.append(self.dataset.label(i))
        x = torch.from_numpy(np.stack(images)).to(device=device, dtype=torch.float32) / 127.5 - 1
        return x, torch.from_numpy(np.stack(labels)).to(device)


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


def _sub_batch(config: TrainingConfig, G: Generator, reals: RealImages | None, step: int, phase: int,
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
                    gen_z=gen_z.to(device),
                    gen_c=gen_c, mix_z=mix_z.to(device), mix_cutoff=cutoff, generator=noise)


def _freeze_layers(D: Discriminator, count: int) -> set[int]:
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


def _adam(params, lr: float, interval: int | None) -> torch.optim.Adam:
    """Adam β=(0, 0.99), ε=1e-8, with the lazy-regularization correction lr·c, β^c, c = I/(I+1)."""
    c = interval / (interval + 1) if interval else 1.0
    return torch.optim.Adam(params, lr=lr * c, betas=(0.0, 0.99 ** c), eps=1e-8)


def _autocast(config: TrainingConfig, device: torch.device):
    if config.precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if config.precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


class _StopFlag:
    """Set by SIGINT / SIGTERM; the loop then writes a checkpoint and returns."""

    def __init__(self):
        self.raised = False
        self._previous = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not in the main thread
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        self.raised = True

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _resolve_resume(config: TrainingConfig, outdir, resume: str | None, explicit, notify):
    """(checkpoint path, (metadata, tensors), config) to continue from, or (None, None, config).

    The stored config wins; RESUMABLE options take the new values. Options in `explicit` (those the
    user set) that differ from the stored run are refused by name. A damaged newest checkpoint is
    skipped for the next older one, with a note."""
    if not resume:
        return None, None, config
    candidates = resume_candidates(resume, outdir)
    if not candidates:
        notify(f"--resume {resume}: no checkpoint in {outdir}; starting a new run")
        return None, None, config
    for path in candidates:
        try:
            metadata, tensors = read_training_state(path)
            break
        except StyleforgeError as error:
            if len(candidates) == 1:
                raise
            notify(f"skipping damaged checkpoint {path.name}: {error}")
    else:
        raise StyleforgeError(f"--resume {resume}: every checkpoint of {candidates[0].parent.parent} is damaged")
    if path != candidates[0]:
        notify(f"resuming from the newest good checkpoint, {path.name}")
    stored = TrainingConfig.from_dict(json.loads(metadata["training_config"]))
    if explicit is not None:
        fixed = [f"--{name.replace('_', '-')} {getattr(config, name)!r} (the run has {getattr(stored, name)!r})"
                 for name in sorted(explicit) if name not in RESUMABLE
                 and getattr(config, name) != getattr(stored, name)]
        if fixed:
            raise StyleforgeError("--resume continues a stored run, whose settings cannot change: "
                                  + "; ".join(fixed) + ". Start a new run for other settings")
    changes = {name: getattr(config, name) for name in RESUMABLE
               if (explicit is None or name in explicit) and getattr(config, name) != getattr(stored, name)}
    for name, value in changes.items():
        notify(f"on resume: {name} {getattr(stored, name)!r} → {value!r}")
    config = TrainingConfig.from_dict({**stored.to_dict(), **{k: config.to_dict()[k] for k in changes}})
    return path, (metadata, tensors), config


@dataclass(frozen=True)
class _BatchLayout:
    """How one global batch splits into sub-batches (processes × accumulation rounds)."""

    batch: int              # global batch
    batch_gpu: int          # images per sub-batch
    num_sub_batches: int    # over all processes
    mine: list              # indices of this process's sub-batches
    pl_count: int           # images in one path-length phase, over all processes


def _run_phase(phase: tuple[str, str], phase_index: int, config: TrainingConfig, G, D, optimizer, frozen: set,
               reals: RealImages, label_pool, pl_mean: torch.Tensor, counters: Counters,
               layout: _BatchLayout, stats: "_Stats", autocast, ctx) -> None:
    """One phase (G main, G reg, D main or D reg) of one step: accumulate the gradients of this
    process's sub-batches, sum them over processes, clean NaN/Inf, take the optimizer step."""
    net, kind = phase
    module = G if net == "G" else D
    G.requires_grad_(net == "G")
    for p in D.parameters():
        p.requires_grad_(net == "D" and id(p) not in frozen)
    optimizer.zero_grad(set_to_none=True)
    w_sum = torch.zeros([G.w_dim], device=ctx.device)
    length_sum = torch.zeros([], device=ctx.device)
    batch = layout.batch
    for s in layout.mine:
        sub = _sub_batch(config, G, reals if net == "D" else None, counters.step, phase_index, s,
                         layout.batch_gpu, counters.cur_nimg + s * layout.batch_gpu, label_pool, ctx.device)
        with autocast:
            if phase == ("G", "main"):
                loss, w = generator_main_loss(G, D, sub)
                (loss.float().sum() / batch).backward()
                w_sum += w.float().sum(0)
                stats.add("loss/G", loss)
            elif phase == ("G", "reg"):
                penalty, lengths = path_length_penalty(G, sub, pl_mean, config.pl_batch_shrink, config.pl_decay)
                (penalty.float().sum() * config.pl_weight * config.g_reg_interval / layout.pl_count).backward()
                length_sum += lengths.float().mean()
                stats.add("loss/pl_penalty", penalty)
            elif phase == ("D", "main"):
                loss = discriminator_main_loss(G, D, sub)
                (loss.float().sum() / batch).backward()
                stats.add("loss/D", loss)
            else:
                r1 = r1_penalty(D, sub)
                (r1.float().sum() * (config.gamma / 2) * config.d_reg_interval / batch).backward()
                stats.add("loss/r1_penalty", r1)
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    distributed.all_reduce_sum(grads + [w_sum, length_sum], ctx)
    for g in grads:  # guard against NaN / Inf as the reference does
        torch.nan_to_num_(g, nan=0, posinf=1e5, neginf=-1e5)
    optimizer.step()
    if phase == ("G", "main"):
        G.mapping.track_w_avg((w_sum / batch)[None])
    elif phase == ("G", "reg"):
        pl_mean.copy_(pl_mean.lerp(length_sum / layout.num_sub_batches, config.pl_decay))


def train(config: TrainingConfig, outdir: str | Path, resume: str | None = None,
          progress: Callable[[dict], None] | None = None, device: str | None = None,
          explicit: set[str] | None = None, notify: Callable[[str], None] | None = None) -> TrainResult:
    """Train (or resume) a StyleGAN2; writes the run directory on the main process.

    On resume the stored config is used, except RESUMABLE options (taken from `config`); with
    `explicit` (the option names a user set), any other explicit option that differs is refused.
    `notify(text)` receives notes (damaged checkpoints skipped, changes applied on resume)."""
    from ..data import open_dataset

    notify = notify or (lambda text: print(text, file=sys.stderr))
    config = config.validate()
    ctx = distributed.setup(device)
    if config.precision != "fp32" and ctx.device.type != "cuda":
        raise StyleforgeError("--precision bf16/fp16 needs a CUDA device; use fp32 on CPU")
    if ctx.device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = config.tf32
    resume_path, resume_state, config = _resolve_resume(config, outdir, resume, explicit,
                                                        notify if ctx.is_main else (lambda text: None))
    started = time.time()

    # Data and networks.
    dataset = open_dataset(config.data, config.resolution or (None if config.data != "toyfaces" else
                                                              _preset_resolution(config)),
                           use_labels=config.cond, max_size=config.max_size, seed=config.seed)
    resolution, channels = dataset.resolution, dataset.channels
    if resume_state is not None:
        g_config, d_config = model_configs_of(resume_state[0])
    else:
        g_config, d_config = config.model_configs(resolution, channels, dataset.label_dim)
    torch.manual_seed(config.seed)
    G, D = Generator(g_config), Discriminator(d_config)
    if config.init_from and resume_state is None:
        G, D = _initialize_from(config.init_from, G, D)
    if (G.img_resolution, G.img_channels) != (resolution, channels):
        raise StyleforgeError(f"the model makes {G.img_resolution}px × {G.img_channels} images but the "
                              f"dataset has {resolution}px × {channels}")
    G, D = G.to(ctx.device).train(), D.to(ctx.device).train()
    if config.channels_last and ctx.device.type == "cuda":  # NHWC weights for tensor-core convs
        G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    G_ema = Generator(G.config).to(ctx.device).eval()
    G_ema.load_state_dict(G.state_dict())
    G_ema.requires_grad_(False)

    frozen = _freeze_layers(D, config.freeze_d)
    d_params = [p for p in D.parameters() if id(p) not in frozen]
    for p in D.parameters():
        p.requires_grad_(id(p) not in frozen)
    opt_G = _adam(G.parameters(), config.glr, config.g_reg_interval if config.pl_weight > 0 else None)
    opt_D = _adam(d_params, config.dlr, config.d_reg_interval if config.gamma > 0 else None)
    pl_mean = torch.zeros([], device=ctx.device)
    counters = Counters()
    if resume_state is not None:
        counters = restore_training_state(*resume_state, G, D, G_ema, opt_G, opt_D, pl_mean)
    for module in (G, D, G_ema):
        distributed.broadcast_module(module, ctx)

    batch, world = config.batch, ctx.world_size
    if batch % world:
        raise StyleforgeError(f"--batch {batch} is not divisible by the {world} processes")
    per_rank = batch // world
    batch_gpu = config.batch_gpu or per_rank
    if per_rank % batch_gpu:
        raise StyleforgeError(f"--batch-gpu {batch_gpu} must divide the per-process batch {per_rank}")
    group = d_config.mbstd_group_size
    if group is not None and batch_gpu % min(group, batch_gpu):
        raise StyleforgeError(f"--batch-gpu {batch_gpu} is not a multiple of the minibatch-stddev "
                              f"group size {group}")
    rounds = per_rank // batch_gpu
    layout = _BatchLayout(batch=batch, batch_gpu=batch_gpu, num_sub_batches=world * rounds,
                          mine=[ctx.rank * rounds + r for r in range(rounds)],
                          pl_count=world * rounds * max(1, batch_gpu // config.pl_batch_shrink))
    label_pool = None
    if G.c_dim:
        label_pool = np.stack([dataset.label(i) for i in range(min(len(dataset), 100_000))])
    from ..metrics import parse_metric, require_weights, resolve_auto

    config = dataclasses.replace(config, metrics=resolve_auto(config.metrics, ctx.device))
    for name in config.metrics:  # fail now rather than at the first snapshot
        spec = parse_metric(name)
        if spec.num_real(dataset) > len(dataset):
            raise StyleforgeError(f"metric {name} needs {spec.num_real(dataset)} real images but the dataset "
                                  f"has {len(dataset)}; pick a smaller one (e.g. --metrics swd{len(dataset)})")
        if ctx.is_main:
            require_weights(spec)

    # Run directory (main process only), created only now that every setting has been checked.
    run_dir, writer, lock = None, None, contextlib.nullcontext()
    if ctx.is_main:
        run_dir = resume_path.parent.parent if resume_path is not None else create_run_dir(
            outdir, _describe(config, resolution))
        lock = RunLock(run_dir)
        lock.__enter__()
    try:
        return _train_in_run_dir(config, ctx, run_dir, resume_path, dataset, G, D, G_ema, opt_G, opt_D, frozen,
                                 pl_mean, counters, layout, label_pool, progress, started, batch_gpu)
    finally:
        lock.__exit__(None, None, None)
        distributed.teardown(ctx)


def _train_in_run_dir(config, ctx, run_dir, resume_path, dataset, G, D, G_ema, opt_G, opt_D, frozen, pl_mean,
                      counters, layout, label_pool, progress, started, batch_gpu) -> TrainResult:
    """The training loop proper, with the run directory locked."""
    resolution, world, batch = dataset.resolution, ctx.world_size, layout.batch
    reals = RealImages(dataset, config.seed, config.mirror)
    writer = None
    if ctx.is_main:
        (run_dir / "checkpoints").mkdir(exist_ok=True)
        (run_dir / "config.json").write_text(json.dumps(
            {"training": config.to_dict(), "G": G.config.to_dict(), "D": D.config.to_dict(),
             "world_size": world, "batch_gpu": batch_gpu, "dataset": {"name": dataset.name,
             "size": len(dataset) if len(dataset) < 2 ** 30 else None, "resolution": resolution}},
            indent=2))
        writer = EventWriter(run_dir)
        if resume_path is None:
            save_image(make_grid(to_uint8(reals.batch(0, GRID_SEEDS, "cpu")[0]), cols=8), run_dir / "reals.png")
        if progress is not None:
            progress({"event": "start", "run_dir": str(run_dir), "data": dataset.name,
                      "images": len(dataset) if len(dataset) < 2 ** 30 else None, "resolution": resolution,
                      "channels": dataset.channels, "g_params": sum(p.numel() for p in G.parameters()),
                      "d_params": sum(p.numel() for p in D.parameters()), "kimg": counters.cur_nimg / 1000,
                      "total_kimg": config.kimg, "max_minutes": config.max_minutes, "batch": batch,
                      "device": str(ctx.device), "resumed_from": str(resume_path) if resume_path else None})
    grid_z = z_from_seeds(list(range(GRID_SEEDS)), G.z_dim, ctx.device)
    grid_c = torch.from_numpy(label_pool[np.arange(GRID_SEEDS) % len(label_pool)]).to(ctx.device) \
        if label_pool is not None else None

    total = int(config.kimg * 1000)
    snapshot_every = int(config.snapshot_kimg * 1000)
    stats = _Stats()
    status, last_snapshot, last_checkpoint = "done", None, resume_path
    autocast = _autocast(config, ctx.device)
    with _StopFlag() as stop:
        tick_start, tick_nimg = time.time(), counters.cur_nimg
        while counters.cur_nimg < total:
            step = counters.step
            phases = [("G", "main")]
            if config.pl_weight > 0 and step % config.g_reg_interval == 0:
                phases.append(("G", "reg"))
            phases.append(("D", "main"))
            if config.gamma > 0 and step % config.d_reg_interval == 0:
                phases.append(("D", "reg"))
            for phase_index, phase in enumerate(phases):
                _run_phase(phase, phase_index, config, G, D, opt_G if phase[0] == "G" else opt_D, frozen,
                           reals, label_pool, pl_mean, counters, layout, stats, autocast, ctx)
            if _agree(stats.non_finite is not None, ctx):
                raise _diverged(run_dir, writer, counters, stats.non_finite or "a loss on another process",
                                last_checkpoint)
            _update_ema(G_ema, G, config, counters.cur_nimg, batch)
            counters.cur_nimg += batch
            counters.step += 1
            if progress is not None and ctx.is_main:
                progress({"event": "step", "kimg": counters.cur_nimg / 1000, "total_kimg": config.kimg,
                          "wall_s": time.time() - started, "max_minutes": config.max_minutes})

            out_of_time = config.max_minutes is not None and time.time() - started > 60 * config.max_minutes
            done = counters.cur_nimg >= total
            at_snapshot = counters.cur_nimg // snapshot_every != (counters.cur_nimg - batch) // snapshot_every
            stop_now = _agree(stop.raised or out_of_time, ctx)
            tick_done = counters.cur_nimg // 1000 != (counters.cur_nimg - batch) // 1000
            if tick_done or done or at_snapshot or stop_now:
                seconds = time.time() - tick_start
                entry = {"kimg": counters.cur_nimg / 1000, "step": counters.step,
                         "img_per_s": (counters.cur_nimg - tick_nimg) / max(seconds, 1e-9),
                         "pl_mean": float(pl_mean), **stats.means(ctx),
                         "wall_s": time.time() - started, **_memory(ctx.device)}
                tick_start, tick_nimg = time.time(), counters.cur_nimg
                if ctx.is_main:
                    _log(run_dir, writer, entry)
                if progress is not None and ctx.is_main:
                    progress({**entry, "total_kimg": config.kimg})
            if done or at_snapshot or stop_now:
                bad = _non_finite_weights(G, D, G_ema)
                if _agree(bad is not None, ctx):
                    raise _diverged(run_dir, writer, counters, bad or "weights on another process",
                                    last_checkpoint)
                if ctx.is_main:
                    last_snapshot = _snapshot(run_dir, config, G, D, G_ema, opt_G, opt_D, pl_mean,
                                              counters, grid_z, grid_c)
                    last_checkpoint = run_dir / "checkpoints" / _checkpoint_name(counters)
                    _evaluate_metrics(config, G_ema, dataset, last_snapshot, writer, counters, progress)
                distributed.barrier(ctx)
            if stop_now and not done:
                status = "interrupted" if stop.raised else "time-limit"
                break
    if writer is not None:
        writer.close()
    return TrainResult(run_dir=run_dir, status=status, cur_nimg=counters.cur_nimg, snapshot=last_snapshot,
                       networks={"G": G, "G_ema": G_ema, "D": D})


def _preset_resolution(config: TrainingConfig) -> int:
    from ..config import PRESETS
    from .config import TRAINING_PRESETS

    return PRESETS[TRAINING_PRESETS[config.preset]["model"]]["G"]["img_resolution"]


def _initialize_from(path: str, G: Generator, D: Discriminator):
    """G (from G_ema / G) and, when the file has one, D from a pretrained model file."""
    networks = load_networks(path)  # fresh modules, ours to train
    G = networks["G_ema"] if "G_ema" in networks else networks.get("G")
    if not isinstance(G, Generator):
        raise StyleforgeError(f"--init-from {path} holds no generator")
    if "D" in networks:
        D = networks["D"]
    elif (D.img_resolution, D.c_dim) != (G.img_resolution, G.c_dim):
        raise StyleforgeError(f"--init-from {path} has no discriminator and its generator does not "
                              "match the preset's; pick a preset with the same resolution")
    return G, D


@torch.no_grad()
def _update_ema(G_ema: Generator, G: Generator, config: TrainingConfig, cur_nimg: int, batch: int) -> None:
    """G_ema ← lerp(G, G_ema, β), β = 0.5^(batch / ema_nimg), ema_nimg ≤ cur_nimg·rampup (reference)."""
    ema_nimg = config.ema_kimg * 1000
    if config.ema_rampup is not None:
        ema_nimg = min(ema_nimg, cur_nimg * config.ema_rampup)
    beta = 0.5 ** (batch / max(ema_nimg, 1e-8))
    for p_ema, p in zip(G_ema.parameters(), G.parameters()):
        p_ema.copy_(p.detach().lerp(p_ema, beta))
    for b_ema, b in zip(G_ema.buffers(), G.buffers()):
        b_ema.copy_(b)


class _Stats:
    """Running sums of per-sample losses between log lines."""

    def __init__(self):
        self.sums: dict[str, list[float]] = {}
        self.non_finite: str | None = None  # name of the first loss that was NaN / Inf

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


def _agree(flag: bool, ctx) -> bool:
    """True on every process if it is True on any (so all stop at the same step)."""
    if ctx.world_size == 1:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=ctx.device)
    distributed.all_reduce_sum([value], ctx)
    return bool(value.item() > 0)


def _memory(device: torch.device) -> dict:
    import resource

    out = {"cpu_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device.type == "cuda":
        out["gpu_peak_mem_mib"] = torch.cuda.max_memory_allocated(device) / 2 ** 20
    return out


def _describe(config: TrainingConfig, resolution: int) -> str:
    data = Path(config.data).stem if config.data != "toyfaces" else "toyfaces"
    return f"{data}{resolution}-{config.preset}-batch{config.batch}-gamma{config.gamma:g}"


def _log(run_dir: Path, writer: EventWriter, entry: dict) -> None:
    with open(run_dir / "log.jsonl", "a") as f:
        f.write(json.dumps(entry) + "\n")
    writer.scalars({k: v for k, v in entry.items() if k not in ("step",)}, step=int(entry["kimg"] * 1000))


def _evaluate_metrics(config: TrainingConfig, G_ema, dataset, snapshot: Path, writer: EventWriter,
                      counters: Counters, progress) -> None:
    """Each configured metric on the snapshot: appended to metric-<name>.jsonl in the run directory
    and logged to TensorBoard as metrics/<name>."""
    from tqdm import tqdm

    from ..metrics import append_result, evaluate, parse_metric, work

    for name in config.metrics:
        spec = parse_metric(name)
        with tqdm(total=work(spec, dataset), desc=spec.name, unit="img", leave=False,
                  disable=not sys.stderr.isatty()) as bar:
            record = evaluate(G_ema, spec, dataset, progress=bar.update)
        record["kimg"] = counters.cur_nimg / 1000
        append_result(record, snapshot)
        writer.scalars({f"metrics/{record['metric']}": record["value"]}, step=counters.cur_nimg)
        if progress is not None:
            progress({"metric": record["metric"], "value": record["value"], "kimg": record["kimg"]})


def _snapshot(run_dir: Path, config, G, D, G_ema, opt_G, opt_D, pl_mean, counters, grid_z, grid_c) -> Path:
    """Fakes grid, exported G_ema model file, full training checkpoint (last N kept)."""
    kimg = counters.cur_nimg // 1000
    with torch.no_grad():
        fakes = torch.cat([G_ema(grid_z[i:i + 16], grid_c[i:i + 16] if grid_c is not None else None)
                           for i in range(0, len(grid_z), 16)])
    save_image(make_grid(to_uint8(fakes), cols=8), run_dir / f"fakes-{kimg:06d}.png")
    snapshot = save(G_ema, run_dir / f"network-snapshot-{kimg:06d}.safetensors")
    save_training_state(run_dir / "checkpoints" / _checkpoint_name(counters), config,
                        G, D, G_ema, opt_G, opt_D, pl_mean, counters)
    prune_checkpoints(run_dir, config.keep_checkpoints)
    return snapshot


def _checkpoint_name(counters: Counters) -> str:
    return f"checkpoint-{counters.cur_nimg:012d}.safetensors"


def _non_finite_weights(*modules) -> str | None:
    """The first parameter or buffer holding NaN / Inf, as 'G.mapping.layers.0.weight', or None."""
    for prefix, module in zip(("G", "D", "G_ema"), modules):
        for name, tensor in module.state_dict().items():
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                return f"{prefix}.{name}"
    return None


def _diverged(run_dir, writer, counters: Counters, what: str, last_checkpoint) -> TrainingDiverged:
    """The error that ends a diverged run (logged to log.jsonl; nothing of that state is written)."""
    kimg = counters.cur_nimg / 1000
    if run_dir is not None:
        with open(run_dir / "log.jsonl", "a") as f:
            f.write(json.dumps({"event": "diverged", "kimg": kimg, "non_finite": what}) + "\n")
    if writer is not None:
        writer.close()
    resume = (f"the last good checkpoint is {last_checkpoint}" if last_checkpoint is not None
              else "no checkpoint had been written yet")
    return TrainingDiverged(f"training diverged at {kimg:.3f} kimg: {what} became NaN or infinite, so the run "
                            f"stopped without saving that state; {resume}. Lower --glr / --dlr or raise "
                            "--gamma and start again")
