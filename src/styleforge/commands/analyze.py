"""`styleforge analyze`: the analyses of `styleforge.analysis` (options: cli/analyze.py)."""

import json
import tempfile
from pathlib import Path

import numpy as np

from ..analysis import (analysis_report, build_latent_dataset, dci, droplet_comparison, droplet_figure,
                        evaluate_predictor, feature_grid, layer_features, layer_spikiness, load_predictor,
                        report_stages, save_predictor, separability, train_predictor)
from ..data import ToyFaces
from ..errors import StyleforgeError
from ..files import check_destination
from ..media import save_image
from ..metrics import evaluate, parse_metric
from .common import load_generator, output_dir, progress_bar

SPACE_LABELS = {"z": "Z", "w": "W", "wplus": "W+", "s": "S"}


def _train_predictor(args) -> int:
    if args.resolution not in (16, 32, 64):
        raise StyleforgeError("--resolution must be 16, 32 or 64")
    check_destination(args.out, args.force, "--out")
    with progress_bar(args.steps, "train predictor", unit="step") as bar:
        def report(step, loss):
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}")
        model = train_predictor(steps=args.steps, batch=args.batch, resolution=args.resolution, progress=report)
    scores = evaluate_predictor(model, ToyFaces(max(args.resolution, 16), seed=99))
    save_predictor(model, args.out, scores)
    for name, value in scores.items():
        print(f"{name:28s} {value:.3f}")
    print(f"wrote {args.out}")
    return 0


def _report(args, G, predictor) -> dict:
    """`analysis_report` with a bar over its stages (stage name shown, time left) and one over the
    latent dataset's samples (most of the time)."""
    stages = report_stages(ppl=not args.no_ppl)
    started = []

    def stage(name: str) -> None:
        if started:
            bar.update(1)
        started.append(name)
        bar.set_postfix(stage=name)
    with progress_bar(len(stages), "analyze report", unit="stage") as bar, \
            progress_bar(args.samples, "latent dataset", unit="sample") as samples:
        record = analysis_report(G, predictor, args.outdir, samples=args.samples, seed=args.seed,
                                 protocol=args.protocol, method=args.method,
                                 path_lengths=None if args.no_ppl else _path_lengths, progress=stage,
                                 sample_progress=samples.update)
        bar.update(1)
    return record


def _samples(args, G, predictor, folder):
    with progress_bar(args.samples, "latents") as bar:
        return build_latent_dataset(G, predictor, folder, args.samples, seed=args.seed, progress=bar.update)


def _droplets(args) -> int:
    if len(args.models) < 2:
        raise StyleforgeError("--models needs at least two generators to compare (e.g. v1 then v2)")
    outdir = output_dir(args.outdir)
    models = {}
    for path in args.models:
        name = Path(path).stem
        if name.startswith("network-snapshot") and Path(path).parent.name:
            name = Path(path).parent.name  # a run directory names a snapshot better than its file name
        if name in models:
            name = f"{name}-{len(models)}"
        models[name] = load_generator(path, args.device)
    record = droplet_comparison(models, args.seeds, tuple(args.resolutions), noise_mode=args.noise_mode)
    (outdir / "droplets.json").write_text(json.dumps(record, indent=2))
    figure = droplet_figure(models, args.seeds[0], tuple(args.resolutions), noise_mode=args.noise_mode)
    figure.savefig(outdir / "droplets.png")
    for name, G in models.items():  # the channel grids of the compared layers, per model
        maps = layer_features(G, args.seeds[0], noise_mode=args.noise_mode)
        for r in args.resolutions:
            if f"b{r}.conv" in maps:
                save_image(feature_grid(maps[f"b{r}.conv"]), outdir / f"features-{name}-b{r}.conv.png")
    for name, entry in record["models"].items():
        values = ", ".join(f"{r} px {v:.2f}" if v is not None else f"{r} px -"
                           for r, v in entry["by_resolution"].items())
        print(f"{name} ({entry['family']}): spikiness {values}")
    first, second = list(models)[:2]
    for r, ratio in record["ratios"].items():
        print(f"ratio {first} / {second} at {r} px: " + (f"{ratio:.2f}" if ratio is not None else "-"))
    print(f"wrote {outdir}/droplets.json and droplets.png")
    return 0


def _path_lengths(G) -> dict:
    """PPL (end-point sampling, Z and W) for the analysis report; a metric that cannot run says why."""
    results = {}
    for name in ("ppl2_2k_zend", "ppl2_2k_wend"):
        try:
            results[name] = evaluate(G, parse_metric(name))["value"]
        except StyleforgeError as error:  # no LPIPS weights here, or images too small
            results[name] = f"skipped: {error}"
    return results


def run(args) -> int:
    if args.action == "train-predictor":
        return _train_predictor(args)
    if args.action == "droplets":
        return _droplets(args)
    G = load_generator(args.model, args.device, args.network_key)
    if args.action == "features":
        outdir = output_dir(args.outdir)
        for name, value in layer_features(G, args.seed).items():
            save_image(feature_grid(value), outdir / f"features-{name}.png")
        spikes = layer_spikiness(G, list(range(args.seed, args.seed + 8)))
        (outdir / "spikiness.json").write_text(json.dumps(spikes, indent=2))
        for name, value in spikes.items():
            print(f"{name:12s} spikiness {value:.2f}")
        print(f"wrote feature grids and spikiness.json to {outdir}")
        return 0
    predictor = load_predictor(args.predictor)
    if args.action == "report":
        record = _report(args, G, predictor)
        for space, values in record["dci"].items():
            print(f"DCI {SPACE_LABELS[space]:2s}: D {values['disentanglement']:.3f}  C {values['completeness']:.3f}  "
                  f"I {values['informativeness']:.3f}")
        print(f"separability Z {record['separability']['z']['score']:.2f}, W {record['separability']['w']['score']:.2f}")
        print(f"wrote {args.outdir}/report.html and report.json")
        return 0
    with tempfile.TemporaryDirectory() as folder:
        data = _samples(args, G, predictor, folder)
        factors = np.asarray(data.factors)
        if args.action == "dci":
            for space in ("z", "w", "wplus", "s"):
                result = dci(np.asarray(data.codes(space)), factors, protocol=args.protocol, method=args.method,
                             seed=args.seed)
                print(f"DCI {SPACE_LABELS[space]:2s}: D {result['disentanglement']:.3f}  "
                      f"C {result['completeness']:.3f}  I {result['informativeness']:.3f}")
        else:
            for space in ("z", "w"):
                result = separability(np.asarray(data.codes(space)), factors, data.factor_names)
                print(f"separability {SPACE_LABELS[space]}: {result['score']:.2f}")
    return 0
