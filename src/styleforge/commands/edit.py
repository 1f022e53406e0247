"""`styleforge edit`: run a registered editing method (`edit.registry`) into an edit file with a
figure, apply edits to seeds or projected latents, and compare methods (options: cli/edit.py)."""

import contextlib
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from ..analysis import build_latent_dataset, load_predictor, open_latent_dataset
from ..edit import (EditContext, apply_edits, comparison_table, edit_effects, edit_strip_images, format_table,
                    load_edits, method, method_label, save_edits, select_edits)
from ..errors import StyleforgeError
from ..files import atomic_path, check_destination
from ..latent_files import SPACE_NAMES, latent_for, save_latents
from ..latents import styles_to_vector, z_from_seeds
from ..names import STRENGTH_LIMIT
from ..devices import device_of
from ..pipeline import load_latent_file, open_latent_file, render
from ..media import make_grid, save_image, titled_grid, to_uint8, write_video
from .common import load_generator, progress_bar

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".mp4", ".webp")
MAX_FIGURE_LATENTS = 256  # latents in one `edit apply` figure (each a block of edits × strengths)


# ---------------------------------------------------------------------------------------------
# Inputs

def _samples(args, G, predictor, stack: contextlib.ExitStack):
    """The scored latent dataset: reused from --latents when it is there (and fits G), else built."""
    folder = Path(args.latents) if args.latents else Path(stack.enter_context(tempfile.TemporaryDirectory()))
    if (folder / "meta.json").is_file():
        data = open_latent_dataset(folder)
        dims = data.meta.get("dims", {})
        if dims.get("z") != G.z_dim or dims.get("w") != G.w_dim or dims.get("wplus") != G.num_ws * G.w_dim:
            raise StyleforgeError(f"--latents {folder} holds samples of a model with other dimensions "
                                  f"({dims}); use another folder for this model")
        print(f"reusing {data.meta['samples']} samples from {folder}", file=sys.stderr)
        return data
    if predictor is None:
        raise StyleforgeError("--scores needs --latents pointing at existing samples (or give --predictor)")
    with progress_bar(args.samples, "latents") as bar:
        return build_latent_dataset(G, predictor, folder, args.samples, seed=args.sample_seed, psi=args.trunc,
                                    progress=bar.update)


def _factor_scores(data, names: list[str]) -> dict[str, np.ndarray]:
    """The predictor's score of each named factor for every sample: {name: [N]}."""
    factors = np.asarray(data.factors)
    return {name: factors[:, data.factor_names.index(name)] for name in names}


def _context(args, G, learns: bool, stack: contextlib.ExitStack) -> EditContext:
    """What a method may use: for learning methods the predictor and the scored samples (built once, on
    first use); progress bars for all."""
    if not learns:
        return EditContext(psi=args.trunc, progress=progress_bar)
    predictor = load_predictor(args.predictor) if args.predictor else None
    built = []

    def samples():
        if not built:
            built.append(_samples(args, G, predictor, stack))
        return built[0]
    context = EditContext(predictor=predictor, samples=samples, scores=_factor_scores, fraction=args.fraction,
                          seed=args.sample_seed, psi=args.trunc, progress=progress_bar)
    context.factors = context.factor_names(args.factors)
    return context


def _parse_edit_spec(spec: str) -> tuple[str, str | None, float | None]:
    """'file.safetensors[:which][=strength]' → (path, which, strength)."""
    strength = None
    if "=" in spec:
        head, tail = spec.rsplit("=", 1)
        try:
            strength, spec = float(tail), head
        except ValueError:
            raise StyleforgeError(f"--edit {spec}: the part after '=' must be a strength number") from None
        if not abs(strength) <= STRENGTH_LIMIT:  # NaN fails this too
            raise StyleforgeError(f"--edit {spec}: the strength must be in -{STRENGTH_LIMIT:g}..{STRENGTH_LIMIT:g} "
                                  "(units of the edit's σ)")
    which = None
    if not Path(spec).exists() and ":" in spec:
        spec, which = spec.rsplit(":", 1)
    return spec, which, strength


def _load_specs(specs: list[str], G) -> list[tuple[object, float | None]]:
    chosen = []
    for spec in specs:
        path, which, strength = _parse_edit_spec(spec)
        for edit in select_edits(load_edits(path), which, path):
            edit.check_model(G, source=f"edit file {path}")
            chosen.append((edit, strength))
    return chosen


# ---------------------------------------------------------------------------------------------
# Outputs

def _outputs(args) -> Path | None:
    """The figure's path; the edit file and the figure never land on one path."""
    out = Path(args.out)
    if out.suffix.lower() in IMAGE_SUFFIXES:
        raise StyleforgeError(f"--out {out} names an image, but --out is the edit file (safetensors): "
                              f"give e.g. --out {out.with_suffix('.safetensors')} (the figure goes to "
                              f"{out.with_suffix('.png')})")
    check_destination(out, args.force, "--out")
    if args.no_figure:
        return None
    figure = Path(args.figure) if args.figure else out.with_suffix(".png")
    if figure.resolve() == out.resolve():
        raise StyleforgeError(f"--figure {figure} is the edit file's path; give the figure another name")
    check_destination(figure, args.force, "--figure")
    return figure


def _write(args, G, edits, figure: Path | None) -> None:
    save_edits(edits, args.out)
    for edit in edits:
        extra = {k: v for k, v in edit.info.items() if k in ("eigenvalue", "val_accuracy", "channel_name", "theta",
                                                              "verified_ratio")}
        details = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in extra.items())
        print(f"{edit.describe()}  {details}")
    print(f"wrote {len(edits)} edits to {args.out}")
    if figure is not None:
        z = z_from_seeds(args.seeds, G.z_dim, device_of(G))
        cells = edit_strip_images(G, edits, args.strengths, z=z, psi=args.trunc)
        save_image(_figure(cells, [f"seed {seed}" for seed in args.seeds], [e.name for e in edits], args.strengths),
                   figure)
        print(f"wrote {figure}: rows = edits ({len(edits)}) per seed ({len(args.seeds)}), "
              f"columns = strengths {', '.join(f'{s:g}' for s in args.strengths)}")


def _figure(cells: torch.Tensor, latent_names: list[str], edit_names: list[str], strengths: list[float]) -> np.ndarray:
    """[L, E, S, C, H, W] → one image: per latent a block of E rows × S columns, blocks stacked; each
    row labelled with its latent and edit, each column with its strength (in σ)."""
    size = cells.shape[-1]
    images = to_uint8(cells.reshape(-1, *cells.shape[3:]))
    scale = max(1, 64 // size)  # small models: cells of at least 64 px, pixels kept sharp
    images = images.repeat(scale, axis=1).repeat(scale, axis=2)
    rows = [f"{latent} · {edit}" for latent in latent_names for edit in edit_names]
    columns = [f"{s:+g}" if s else "0" for s in strengths]
    return titled_grid(images, cols=len(strengths), row_labels=rows, col_labels=columns, corner="strength (sd)")


# ---------------------------------------------------------------------------------------------
# Actions

def _compute(args, G) -> int:
    """`styleforge edit METHOD`: the method's settings from the options, its edits to --out, the figure,
    and its extra records beside the edit file (OUT.NAME.json)."""
    chosen = method(args.action)
    figure = _outputs(args)
    settings = chosen.settings(**{spec.name: getattr(args, spec.name) for spec in dataclasses.fields(chosen.settings)})
    with contextlib.ExitStack() as stack:
        result = chosen.compute(G, settings, _context(args, G, chosen.learns, stack))
    _write(args, G, result.edits, figure)
    for line in result.lines:
        print(line)
    for suffix, record in result.records.items():
        path = Path(args.out).with_suffix(f".{suffix}.json")
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(record, indent=2))
        print(f"wrote {path}")
    return 0


def _latents_to_edit(args, G):
    """({'z': …} or {'ws': …}, a name per latent, noise maps of the latent files or None)."""
    device = device_of(G)
    if args.seeds is not None:
        return {"z": z_from_seeds(args.seeds, G.z_dim, device)}, [f"seed {seed}" for seed in args.seeds], None
    files = [open_latent_file(f, G) for f in args.projected_w]
    ws = torch.cat([load_latent_file(latent, G) for latent in files]).to(device)
    names = [f"{Path(path).name}[{i}]" if latent.count > 1 else Path(path).name
             for path, latent in zip(args.projected_w, files) for i in range(latent.count)]
    noise = None
    if all(latent.noise for latent in files):  # projections keep their optimized noise maps
        noise = {name: torch.cat([latent.noise[name] for latent in files]) for name in files[0].noise}
    return {"ws": ws}, names, noise


def _apply(args, G) -> int:
    check_destination(args.out, args.force, "--out")
    for option, path in (("--video", args.video), ("--save-latents", args.save_latents)):
        if path:
            check_destination(path, args.force, option)
    chosen = _load_specs(args.edit, G)
    fixed = [(e, s) for e, s in chosen if s is not None]
    swept = [e for e, s in chosen if s is None]
    if args.video and not swept:
        raise StyleforgeError("--video sweeps a strength: give at least one --edit without =STRENGTH")
    if len(args.seeds or args.projected_w or []) > MAX_FIGURE_LATENTS:
        raise StyleforgeError(f"edit apply draws one figure: at most {MAX_FIGURE_LATENTS} latents (got "
                              f"{len(args.seeds or args.projected_w)}); split the seeds into several runs")
    source, latent_names, noise = _latents_to_edit(args, G)
    count = len(latent_names)
    strengths = args.strengths if swept else [0.0]
    cells = edit_strip_images(G, swept, strengths, psi=args.trunc, fixed=tuple(fixed), noise=noise, **source)
    fixed_names = " + ".join(f"{e.name} {s:+g}" for e, s in fixed)
    edit_names = [f"{e.name}" + (f" (with {fixed_names})" if fixed_names else "") for e in swept] or [fixed_names]
    save_image(_figure(cells, latent_names, edit_names, strengths), args.out)
    print(f"wrote {args.out}: {count} latents × {cells.shape[1]} edits × {len(strengths)} strengths")
    last = fixed + ([(swept[0], strengths[-1])] if swept else [])
    if args.save_latents:
        edited = apply_edits(G, last, psi=args.trunc, **source)
        space, codes = ("ws", edited["ws"]) if "ws" in edited else ("s", styles_to_vector(edited["styles"]))
        save_latents(args.save_latents, latent_for(G, space, codes, noise=noise, info={
            "edits": [{"name": e.name, "method": e.method, "strength": s} for e, s in last]}))
        print(f"wrote {args.save_latents} ({SPACE_NAMES[space]}, strength {strengths[-1]:g})")
    if args.video:
        lo, hi = min(strengths), max(strengths)
        steps = [lo + (hi - lo) * i / 59 for i in range(60)]
        steps = steps + steps[::-1]

        def frames():
            for strength in steps:
                images = render(G, device="cpu", noise=noise, **apply_edits(G, fixed + [(swept[0], strength)],
                                                                            psi=args.trunc, **source))
                yield make_grid(to_uint8(images), cols=min(count, 4))
        written = write_video(frames(), args.video, fps=30, scale=max(1, 256 // (G.img_resolution * min(count, 4))))
        print(f"wrote {args.video}: {written} frames sweeping {swept[0].name} from {lo:g} to {hi:g} and back")
    return 0


def _compare(args, G) -> int:
    predictor = load_predictor(args.predictor)
    chosen = [edit for edit, _ in _load_specs(args.edit, G)]
    results: dict[str, list] = {}
    with progress_bar(len(chosen), "edits") as bar:
        for edit in chosen:
            effects = edit_effects(G, predictor, edit, args.seeds, strength=args.strength, psi=args.trunc)
            results.setdefault(method_label(edit), []).append((edit, effects))
            bar.update(1)
    rows = comparison_table(results, list(predictor.config.factors))
    print(format_table(rows))
    if args.json:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(rows, indent=2))
        print(f"wrote {args.json}")
    return 0


def run(args) -> int:
    G = load_generator(args.model, args.device, args.network_key)
    return {"apply": _apply, "compare": _compare}.get(args.action, _compute)(args, G)
