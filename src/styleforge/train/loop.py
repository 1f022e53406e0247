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
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..checkpoint import load_networks, save
from ..checkpoint.training_state import (Counters, model_configs_of, read_training_state, restore_training_state,
                                         save_training_state)
from ..config import PRESETS
from ..data import open_dataset
from ..errors import StyleforgeError
from ..latents import z_from_seeds
from ..metrics import append_result, evaluate, parse_metric, require_weights, resolve_auto, work
from ..models import Discriminator, Generator
from ..pipeline import render
from ..media import make_grid, save_image, to_uint8
from . import distributed
from .config import TRAINING_PRESETS, TrainingConfig
from .reals import RealImages
from .rundir import RunLock, create_run_dir, prune_checkpoints, resume_candidates
from .step import TrainingStep, build_networks
from .tensorboard import EventWriter

try:
    import resource  # optional: peak-memory figures on POSIX
except ImportError:
    resource = None

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
RESUMABLE = ("kimg", "max_minutes", "snapshot_kimg", "metrics", "keep_checkpoints", "workers")


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


def train(config: TrainingConfig, outdir: str | Path, resume: str | None = None,
          progress: Callable[[dict], None] | None = None, device: str | None = None,
          explicit: set[str] | None = None, notify: Callable[[str], None] | None = None) -> TrainResult:
    """Train (or resume) a StyleGAN2; writes the run directory on the main process.

    On resume the stored config is used, except RESUMABLE options (taken from `config`); with
    `explicit` (the option names a user set), any other explicit option that differs is refused.
    `notify(text)` receives notes (damaged checkpoints skipped, changes applied on resume)."""
    notify = notify or (lambda text: print(text, file=sys.stderr))
    config = config.validate()
    ctx = distributed.setup(device)
    if config.precision != "fp32" and ctx.device.type != "cuda":
        raise StyleforgeError(f"--precision {config.precision} needs a CUDA device; use fp32 on CPU")
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
    G, D = build_networks(g_config, d_config, config.seed)
    if config.init_from and resume_state is None:
        G, D = _initialize_from(config.init_from, G, D, config.g_overrides.get("family"))
    if (G.img_resolution, G.img_channels) != (resolution, channels):
        raise StyleforgeError(f"the model makes {G.img_resolution}px × {G.img_channels} images but the "
                              f"dataset has {resolution}px × {channels}")
    step = TrainingStep.create(config, G, D, ctx)
    G, D, G_ema = step.G, step.D, step.G_ema
    counters = Counters()
    if resume_state is not None:
        counters = restore_training_state(*resume_state, G, D, G_ema, step.opt_G, step.opt_D, step.pl_mean)
    for module in (G, D, G_ema):
        distributed.broadcast_module(module, ctx)
    label_pool = None
    if G.c_dim:
        label_pool = np.stack([dataset.label(i) for i in range(min(len(dataset), 100_000))])
    config = dataclasses.replace(config, metrics=resolve_auto(config.metrics, ctx.device))
    for name in config.metrics:  # fail now rather than at the first snapshot
        spec = parse_metric(name)
        if spec.num_real(dataset) > len(dataset):
            raise StyleforgeError(f"metric {name} needs {spec.num_real(dataset)} real images but the dataset "
                                  f"has {len(dataset)}; pick a smaller one (e.g. --metrics swd{len(dataset)})")
        if ctx.is_main:
            require_weights(spec)

    # Run directory (main process only), created only now that every setting has been checked.
    run_dir = None
    if ctx.is_main:
        run_dir = resume_path.parent.parent if resume_path is not None else create_run_dir(
            outdir, _describe(config, resolution))
    try:
        with RunLock(run_dir) if run_dir is not None else contextlib.nullcontext():
            return _train_in_run_dir(config, ctx, run_dir, resume_path, dataset, step, counters, label_pool,
                                     progress, started)
    finally:
        distributed.teardown(ctx)


def reading_workers(config, device: torch.device) -> int:
    """--workers, or auto: 1 on CPU (one read-ahead thread; more processes would compete with the step
    for the same cores), up to 8 DataLoader worker processes beside a GPU."""
    if config.workers > 0:
        return config.workers
    return min(8, os.cpu_count() or 1) if device.type == "cuda" else 1


def _train_in_run_dir(config, ctx, run_dir, resume_path, dataset, step: TrainingStep, counters: Counters,
                      label_pool, progress, started) -> TrainResult:
    """The training loop proper, with the run directory locked: it schedules steps, ticks, snapshots
    and evaluations; `step` does the training."""
    G, D, G_ema, layout = step.G, step.D, step.G_ema, step.layout
    resolution, batch = dataset.resolution, layout.batch
    reals = RealImages(dataset, config.seed, config.mirror, workers=reading_workers(config, ctx.device))
    writer = None
    if ctx.is_main:
        (run_dir / "checkpoints").mkdir(exist_ok=True)
        (run_dir / "config.json").write_text(json.dumps(
            {"training": config.to_dict(), "G": G.config.to_dict(), "D": D.config.to_dict(),
             "world_size": ctx.world_size, "batch_gpu": layout.batch_gpu, "dataset": {"name": dataset.name,
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
    stats = step.stats
    status, last_snapshot, last_checkpoint = "done", None, resume_path
    with _StopFlag() as stop:
        tick_start, tick_nimg = time.time(), counters.cur_nimg
        while counters.cur_nimg < total:
            step.run(counters, reals, label_pool)
            if _agree(stats.non_finite is not None, ctx):
                raise _diverged(run_dir, writer, counters, stats.non_finite or "a loss on another process",
                                last_checkpoint)
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
                         "pl_mean": float(step.pl_mean), **stats.means(ctx),
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
                    last_snapshot = _snapshot(run_dir, config, step, counters, grid_z, grid_c)
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
    return PRESETS[TRAINING_PRESETS[config.preset]["model"]]["G"]["img_resolution"]


def _initialize_from(path: str, G: Generator, D: Discriminator, family: str | None = None):
    """G (from G_ema / G) and, when the file has one, D from a pretrained model file; `family`, when
    asked for (--family), must be the file's."""
    networks = load_networks(path)  # fresh modules, ours to train
    G = networks["G_ema"] if "G_ema" in networks else networks.get("G")
    if not isinstance(G, Generator):
        raise StyleforgeError(f"--init-from {path} holds no generator")
    if family is not None and G.config.family != family:
        raise StyleforgeError(f"--init-from {path} holds a {G.config.family} generator but the run is set up for "
                              f"{family} (--family); fine-tuning keeps the file's family: drop --family or give "
                              f"--family {G.config.family}")
    if "D" in networks:
        D = networks["D"]
    elif (D.img_resolution, D.c_dim) != (G.img_resolution, G.c_dim):
        raise StyleforgeError(f"--init-from {path} has no discriminator and its generator does not "
                              "match the preset's; pick a preset with the same resolution")
    return G, D


def _agree(flag: bool, ctx) -> bool:
    """True on every process if it is True on any (so all stop at the same step)."""
    if ctx.world_size == 1:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=ctx.device)
    distributed.all_reduce_sum([value], ctx)
    return bool(value.item() > 0)


def _memory(device: torch.device) -> dict:
    out = {} if resource is None else {"cpu_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device.type == "cuda":
        out["gpu_peak_mem_mib"] = torch.cuda.max_memory_allocated(device) / 2 ** 20
    return out


def _describe(config: TrainingConfig, resolution: int) -> str:
    data = Path(config.data).stem if config.data != "toyfaces" else "toyfaces"
    family = "-stylegan1" if config.g_overrides.get("family") == "stylegan1" else ""
    return f"{data}{resolution}-{config.preset}{family}-batch{config.batch}-gamma{config.gamma:g}"


def _log(run_dir: Path, writer: EventWriter, entry: dict) -> None:
    with open(run_dir / "log.jsonl", "a") as f:
        f.write(json.dumps(entry) + "\n")
    writer.scalars({k: v for k, v in entry.items() if k not in ("step",)}, step=int(entry["kimg"] * 1000))


def _evaluate_metrics(config: TrainingConfig, G_ema, dataset, snapshot: Path, writer: EventWriter,
                      counters: Counters, progress) -> None:
    """Each configured metric on the snapshot: appended to metric-<name>.jsonl in the run directory
    and logged to TensorBoard as metrics/<name>."""
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


def _snapshot(run_dir: Path, config, step: TrainingStep, counters, grid_z, grid_c) -> Path:
    """Fakes grid, exported G_ema model file, full training checkpoint (last N kept)."""
    kimg = counters.cur_nimg // 1000
    fakes = render(step.G_ema, z=grid_z, labels=grid_c, batch_size=16)
    save_image(make_grid(to_uint8(fakes), cols=8), run_dir / f"fakes-{kimg:06d}.png")
    snapshot = save(step.G_ema, run_dir / f"network-snapshot-{kimg:06d}.safetensors")
    save_training_state(run_dir / "checkpoints" / _checkpoint_name(counters), config, step.G, step.D,
                        step.G_ema, step.opt_G, step.opt_D, step.pl_mean, counters)
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
