"""The analysis report: DCI in Z, W, W+ and S, linear separability of Z and W, PPL (when the LPIPS
weights are at hand) and feature maps with their spikiness — as report.json and an HTML page with
plots (matplotlib, written without a display)."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..files import atomic_path
from ..media import save_image
from .dci import dci
from .feature_maps import feature_grid, layer_features, layer_spikiness
from .latent_dataset import SPACES, build_latent_dataset
from .separability import separability

SPACE_LABELS = {"z": "Z", "w": "W", "wplus": "W+", "s": "S"}
PROTOCOL_TEXT = {  # what the report says about how DCI was computed
    "stylespace": "StyleSpace protocol (classifiers on each factor's 2 % extremes; accuracy)",
    "disentanglement_lib": "disentanglement_lib protocol (classifiers on 20-bin factors; accuracy)",
    "regression": "regression protocol (every factor regressed from the code; R²)",
}


def _dci_figure(results: dict, path: Path) -> None:
    spaces = list(results)
    figure = Figure(figsize=(6, 3.2))  # no pyplot: no display, no global state
    axis = figure.subplots()
    width = 0.25
    for i, key in enumerate(("disentanglement", "completeness", "informativeness")):
        axis.bar(np.arange(len(spaces)) + (i - 1) * width, [results[s][key] for s in spaces], width, label=key)
    axis.set_xticks(range(len(spaces)), [SPACE_LABELS[s] for s in spaces])
    axis.set_ylim(0, 1)
    axis.legend(fontsize=8)
    axis.set_title("DCI per latent space")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def _importance_figure(importance: np.ndarray, factors: list[str], space: str, path: Path) -> None:
    top = np.argsort(-importance.sum(1))[:40]  # the 40 most used code dimensions
    figure = Figure(figsize=(7, 3.4))
    axis = figure.subplots()
    image = axis.imshow(importance[top].T, aspect="auto", cmap="viridis")
    axis.set_yticks(range(len(factors)), factors, fontsize=7)
    axis.set_xlabel(f"{SPACE_LABELS[space]} dimensions (the 40 most important)")
    axis.set_title(f"importance of each {SPACE_LABELS[space]} dimension for each factor")
    figure.colorbar(image, ax=axis)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def report_stages(spaces: tuple = SPACES, ppl: bool = True) -> list[str]:
    """The stages of `analysis_report`, in order (what its `progress` is called with)."""
    return (["latent dataset"] + [f"DCI in {SPACE_LABELS[space]}" for space in spaces]
            + [f"separability of {SPACE_LABELS[space]}" for space in ("z", "w")] + ["PPL"] * ppl + ["feature maps"])


def analysis_report(G, predictor, outdir: str | Path, samples: int = 2000, seed: int = 0,
                    protocol: str = "stylespace", method: str = "gbt",
                    spaces: tuple = SPACES, feature_seeds: int = 8,
                    path_lengths: Callable[[object], dict] | None = None,
                    progress: Callable[[str], None] | None = None,
                    sample_progress: Callable[[int], None] | None = None) -> dict:
    """Write report.json, report.html and their figures to `outdir`; returns the JSON record.
    `path_lengths(G)` → {name: value or why skipped} adds a PPL section (metrics live above analysis,
    so the caller measures them). `progress(stage)` is called as each stage of `report_stages` starts,
    `sample_progress(n)` as the latent dataset grows by n samples."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda text: None)
    began = time.time()
    say("latent dataset")
    data = build_latent_dataset(G, predictor, outdir / "latents", samples, seed=seed, progress=sample_progress)
    factors, names = np.asarray(data.factors), data.factor_names
    record = {"samples": samples, "seed": seed, "protocol": protocol, "method": method if protocol == "regression" else None,
              "factors": names, "dci": {}, "separability": {}}
    for space in spaces:
        say(f"DCI in {SPACE_LABELS[space]}")
        result = dci(np.asarray(data.codes(space)), factors, protocol=protocol, method=method, seed=seed)
        record["dci"][space] = {k: result[k] for k in ("disentanglement", "completeness", "informativeness")}
        record["dci"][space]["per_factor_informativeness"] = {  # None: a factor the protocol leaves out
            name: None if np.isnan(value) else value for name, value in zip(names, result["per_factor_informativeness"])}
        _importance_figure(result["importance"], [names[k] for k in result["factors_used"]], space,
                           outdir / f"importance-{space}.png")
    _dci_figure(record["dci"], outdir / "dci.png")
    for space in ("z", "w"):
        say(f"separability of {SPACE_LABELS[space]}")
        record["separability"][space] = separability(np.asarray(data.codes(space)), factors, names, seed=seed)
    if path_lengths is not None:
        say("PPL")
        record["ppl"] = path_lengths(G)
    say("feature maps")
    record["spikiness"] = layer_spikiness(G, list(range(feature_seeds)))
    grids = []
    for name, value in layer_features(G, seed).items():
        file = f"features-{name}.png"
        save_image(feature_grid(value), outdir / file)
        grids.append((name, file))
    record["seconds"] = round(time.time() - began, 1)
    with atomic_path(outdir / "report.json") as tmp:
        tmp.write_text(json.dumps(record, indent=2))
    _html(record, grids, outdir / "report.html")
    return record


def _html(record: dict, grids: list, path: Path) -> None:
    rows = "".join(f"<tr><td>{SPACE_LABELS[s]}</td><td>{v['disentanglement']:.3f}</td><td>{v['completeness']:.3f}"
                   f"</td><td>{v['informativeness']:.3f}</td></tr>" for s, v in record["dci"].items())
    sep = "".join(f"<tr><td>{n}</td>" + "".join(f"<td>{record['separability'][s]['per_factor'][n]:.3f}</td>"
                                                   for s in ("z", "w")) + "</tr>" for n in record["factors"])
    sep += "<tr><th>2^ΣH</th>" + "".join(f"<th>{record['separability'][s]['score']:.2f}</th>" for s in ("z", "w")) + "</tr>"
    spikes = "".join(f"<tr><td>{html.escape(n)}</td><td>{v:.2f}</td></tr>" for n, v in record["spikiness"].items())
    ppl = "".join(f"<li>{k}: {v if isinstance(v, str) else f'{v:.2f}'}</li>" for k, v in record.get("ppl", {}).items())
    heat = "".join(f'<img src="importance-{s}.png" alt="importance {s}">' for s in record["dci"])
    maps = "".join(f'<figure><img src="{f}" alt="{html.escape(n)}"><figcaption>{html.escape(n)}</figcaption></figure>'
                   for n, f in grids)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>styleforge analysis</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}figure{{display:inline-block;margin:4px}}</style>
</head><body><h1>Analysis ({record['samples']} samples)</h1>
<h2>DCI (Eastwood &amp; Williams 2018), {PROTOCOL_TEXT[record['protocol']]}</h2><img src="dci.png" alt="DCI">
<table><tr><th>space</th><th>disentanglement</th><th>completeness</th><th>informativeness</th></tr>{rows}</table>
<p>Completeness is normalized by the number of code dimensions, so it does not compare across spaces of
different sizes.</p>{heat}
<h2>Linear separability (StyleGAN Sec. 4.2): H(Y|X) in bits, lower is better</h2>
<table><tr><th>factor</th><th>Z</th><th>W</th></tr>{sep}</table>
<h2>Perceptual path length</h2><ul>{ppl}</ul>
<h2>Feature maps (seed {record['seed']}) and spikiness (max / median of channel-mean |x|)</h2>
<table><tr><th>layer</th><th>spikiness</th></tr>{spikes}</table>{maps}
</body></html>"""
    with atomic_path(path) as tmp:
        tmp.write_text(page)
