"""`styleforge train`: Training with a start line, a progress bar and an ETA (options: cli/train.py)."""

import sys

from tqdm import tqdm

from ..train import train, training_config

QUIET_LOG_S = 30  # without a terminal: a progress line at least this often (seconds)


def _eta(entry: dict) -> str:
    """Time left until whichever of --kimg and --max-minutes ends the run first."""
    done, total, elapsed = entry["kimg"] - entry.get("start_kimg", 0), entry["total_kimg"], entry["wall_s"]
    left = (total - entry["kimg"]) * elapsed / done if done > 0 else float("inf")
    why = "kimg"
    if entry.get("max_minutes") is not None and 60 * entry["max_minutes"] - elapsed < left:
        left, why = max(0.0, 60 * entry["max_minutes"] - elapsed), "time limit"
    if left == float("inf"):
        return "?"
    minutes, seconds = divmod(int(left), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d} ({why})" if minutes >= 60 else \
        f"{minutes}:{seconds:02d} ({why})"


def progress_printer():
    """Prints the start line, a progress bar (or, without a terminal, one line per kimg) with the ETA,
    losses and metric results."""
    bar = None
    tty = sys.stderr.isatty()
    start = {}
    losses: dict = {}
    last_line = [0.0]  # wall time of the last line printed without a terminal

    def say(text: str) -> None:
        if bar is not None:
            bar.write(text)
        else:
            print(text, flush=True)

    def report(entry: dict) -> None:
        nonlocal bar
        event = entry.get("event")
        if event == "start":
            start.update(entry, start_kimg=entry["kimg"])
            size = f"{entry['images']:,} images" if entry["images"] else "endless"
            limit = f", at most {entry['max_minutes']:g} min" if entry["max_minutes"] else ""
            verb = f"resuming {entry['resumed_from']}" if entry["resumed_from"] else "training"
            print(f"{verb}: {entry['data']} ({size}, {entry['resolution']}px × {entry['channels']}), "
                  f"G {entry['g_params']:,} / D {entry['d_params']:,} parameters, batch {entry['batch']}, "
                  f"{entry['kimg']:.1f} → {entry['total_kimg']:g} kimg{limit} on {entry['device']}; "
                  f"run directory {entry['run_dir']}", flush=True)
            return
        if "metric" in entry:
            say(f"kimg {entry['kimg']:.1f}  {entry['metric']} {entry['value']:.4f}")
            return
        entry = {**entry, "start_kimg": start.get("start_kimg", 0)}
        if event != "step":
            losses.clear()
            losses.update({k.split("/")[1]: f"{v:.3f}" for k, v in entry.items() if k.startswith("loss/")})
        if tty:
            if bar is None:
                bar = tqdm(total=entry["total_kimg"], initial=entry["start_kimg"], unit="kimg",
                           bar_format="{l_bar}{bar}| {n:.2f}/{total:g} kimg [{elapsed}{postfix}]")
            bar.update(entry["kimg"] - bar.n)
            bar.set_postfix_str(f"left {_eta(entry)}" + "".join(f", {k} {v}" for k, v in losses.items()),
                                refresh=event != "step")
        elif event != "step":
            last_line[0] = entry["wall_s"]
            print(f"kimg {entry['kimg']:.1f}  img/s {entry['img_per_s']:.1f}  left {_eta(entry)}  "
                  + "  ".join(f"{k} {v}" for k, v in losses.items()), flush=True)
        elif entry["wall_s"] - last_line[0] >= QUIET_LOG_S:  # logs hear from a run early, not only per kimg
            last_line[0] = entry["wall_s"]
            print(f"kimg {entry['kimg']:.2f}  left {_eta(entry)}", flush=True)

    return report


def _options(args) -> dict:
    """The training options the user set (None = not given)."""
    return dict(data=args.data, resolution=args.resolution, kimg=args.kimg, batch=args.batch,
                batch_gpu=args.batch_gpu, gamma=args.gamma, glr=args.glr, dlr=args.dlr,
                pl_weight=args.pl_weight, style_mixing_prob=args.style_mixing, ema_kimg=args.ema_kimg,
                mirror=args.mirror or None, cond=args.cond or None, max_size=args.max_size,
                snapshot_kimg=args.snap, max_minutes=args.max_minutes, seed=args.seed,
                init_from=args.init_from, freeze_d=args.freeze_d, precision=args.precision,
                tf32=args.tf32 or None, channels_last=args.channels_last or None, workers=args.workers,
                g_overrides={"family": args.family} if args.family else None,
                metrics=None if args.metrics is None else tuple(
                    m for m in args.metrics.split(",") if m.strip() and m.strip() != "none"))


def run(args) -> int:
    options = _options(args)
    explicit = {name for name, value in options.items() if value is not None}
    if args.preset is not None:
        explicit.add("preset")
    config = training_config(args.preset or "small", **options)
    result = train(config, args.outdir, resume=args.resume, progress=progress_printer(), device=args.device,
                   explicit=explicit if args.resume else None,
                   notify=lambda text: print(f"note: {text}", file=sys.stderr, flush=True))
    if result.run_dir is not None:
        print(f"{result.status} at {result.cur_nimg / 1000:.1f} kimg: {result.run_dir}"
              + (f" (latest model: {result.snapshot})" if result.snapshot else ""))
    return 0 if result.status in ("done", "time-limit") else 130
