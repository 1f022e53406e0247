"""The explorer's model side, independent of HTTP: validated view parameters, an LRU cache of mapped
latents, one worker thread that owns the model, images (full size or thumbnails), feature maps and
their statistics, latent downloads and background projections. A view decides its image completely
(random noise is seeded), so an image URL is a pure function of the view and the model."""

from __future__ import annotations

import io
import re
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image

from ..analysis.feature_maps import feature_grid
from ..data.images import read_image
from ..edit import METHODS, Edit, apply_edits
from ..errors import StyleforgeError, first_line
from ..latent_files import LatentFile, fingerprint, latent_for, latents_bytes, noise_maps
from ..latents import layer_groups, lerp, mix, one_hot, styles_to_vector, truncate, z_from_seeds
from ..names import MAX_SEED, NOISE_MODES, STRENGTH_LIMIT
from ..devices import device_of
from ..pipeline import load_latent_file
from ..projection import ProjectionSettings, image_distance, project
from ..projection.files import target_from_image
from ..media import to_uint8

PSI_RANGE = (-2.0, 2.0)
TRANSLATE_LIMIT = 1.0   # image widths, for StyleGAN3's input transform
MAX_EDITS = 16
MAX_UPLOAD_BYTES = 20 * 2 ** 20
MAX_UPLOAD_PIXELS = 40_000_000
MAX_PROJECTION_STEPS = 1000
THUMBNAIL_SIZES = (16, 512)   # `size=` of a thumbnail (the seed gallery), in pixels
PROJECTION_PATTERN = re.compile(r"[0-9a-f]{12}")
MODEL_TAG_LENGTH = 12         # the `model=` a page puts in its image URLs: the start of the model fingerprint
VIEW_PARAMETERS = {"seed", "psi", "cutoff", "noise", "noiseseed", "class", "mix", "mixrows", "crossover", "mixgroup",
                   "lerp", "t", "projection", "edits", "tx", "ty", "rot"}
REQUEST_PARAMETERS = {"layer", "channel", "space", "size", "model", "download"}   # what an endpoint adds to a view


class NotFound(StyleforgeError):
    """An id (projection) the server does not know."""


class ModelChanged(StyleforgeError):
    """A page's image URL names another model than the server's (the server was restarted with another)."""


@dataclass(frozen=True)
class View:
    """Everything that decides one image (validated; see `parse_view`)."""

    seed: int = 0
    psi: float = 1.0
    cutoff: int | None = None
    noise: str = "const"
    noise_seed: int | None = None     # the seed of random noise (default: the image seed)
    label: int = 0                    # the class of a conditional model
    mix: int | None = None
    crossover: int = 0
    mix_rows: tuple | None = None     # rows from the mix seed instead of the crossover (mixrows / mixgroup)
    lerp_to: int | None = None
    t: float = 0.0
    projection: str | None = None
    edits: tuple = ()                 # ((name, strength), ...)
    translate: tuple = (0.0, 0.0)     # StyleGAN3 only: the image moved by (x, y) image widths
    rotate: float = 0.0               # StyleGAN3 only: the image rotated by this many degrees

    def key(self) -> str:
        return repr(self)

    def slug(self) -> str:
        """A file name stem that says what the view shows, e.g. `seed42-psi0.7-class3-mix7`."""
        parts = [f"projection-{self.projection}"] if self.projection else [f"seed{self.seed}", f"psi{self.psi:g}"]
        if self.projection is None:
            parts += [f"cutoff{self.cutoff}"] * (self.cutoff is not None) + [f"class{self.label}"] * (self.label > 0)
            parts += [f"mix{self.mix}"] * (self.mix is not None)
            parts += [f"lerp{self.lerp_to}-t{self.t:g}"] * (self.lerp_to is not None)
        parts += [f"noise-{self.noise}"] * (self.noise != "const")
        parts += [f"{name}{strength:+g}" for name, strength in self.edits]
        parts += ["moved"] * (self.translate != (0.0, 0.0) or self.rotate != 0.0)
        return re.sub(r"[^A-Za-z0-9_.+-]", "_", "-".join(parts))[:150]


def bounded_number(query: dict, name: str, kind, default, lo=None, hi=None):
    """Query parameter `name` as an int or finite float in [lo, hi]; `default` when absent or empty."""
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise StyleforgeError(f"{name} must be a{'n integer' if kind is int else ' number'}, got {text!r}") from None
    if kind is float and not np.isfinite(value):
        raise StyleforgeError(f"{name} must be finite, got {text!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise StyleforgeError(f"{name} must be in {lo}..{hi}, got {text}")
    return value


def _rows(text: str, num_ws: int) -> tuple:
    """`mixrows=0,1,5`: W+ rows, each in 0..num_ws-1 (empty: no row)."""
    rows = []
    for part in filter(None, text.split(",")):
        rows.append(bounded_number({"mixrows": part}, "mixrows", int, 0, 0, num_ws - 1))
    return tuple(sorted(set(rows)))


def parse_view(query: dict, num_ws: int, edit_names: set, projections: set, groups: dict | None = None,
               c_dim: int = 0) -> View:
    """A View from query parameters, every value bounded; a clear message for the first bad one.
    `groups` maps 'coarse' / 'middle' / 'fine' to W+ rows (for `mixgroup`); `c_dim` bounds `class`."""
    unknown = sorted(set(query) - VIEW_PARAMETERS - REQUEST_PARAMETERS)
    if unknown:
        raise StyleforgeError(f"unknown parameter(s): {', '.join(unknown)}")
    noise = query.get("noise") or "const"
    if noise not in NOISE_MODES:
        raise StyleforgeError(f"noise must be one of {', '.join(NOISE_MODES)}, got {noise!r}")
    projection = query.get("projection") or None
    if projection is not None and (not PROJECTION_PATTERN.fullmatch(projection) or projection not in projections):
        raise NotFound(f"no finished projection {projection!r} on this server")
    edits = []
    for part in filter(None, (query.get("edits") or "").split(",")):
        name, _, strength = part.rpartition(":")
        if name not in edit_names:
            raise StyleforgeError(f"unknown edit {name or part!r} (this server has: {', '.join(sorted(edit_names)) or 'none'})")
        edits.append((name, bounded_number({"strength": strength}, "strength", float, 0.0, -STRENGTH_LIMIT, STRENGTH_LIMIT)))
    if len(edits) > MAX_EDITS:
        raise StyleforgeError(f"at most {MAX_EDITS} edits at once")
    group = query.get("mixgroup") or None
    if group is not None and group not in (groups or {}):
        raise StyleforgeError(f"mixgroup must be one of {', '.join(groups or {}) or 'none for this model'}, got {group!r}")
    mix_rows = tuple(groups[group]) if group else None
    if "mixrows" in query:
        mix_rows = _rows(query["mixrows"], num_ws)
    if query.get("class") not in (None, "") and not c_dim:
        raise StyleforgeError("class picks the class of a conditional model; this model has no classes")
    return View(seed=bounded_number(query, "seed", int, 0, 0, MAX_SEED),
                psi=bounded_number(query, "psi", float, 1.0, *PSI_RANGE),
                cutoff=bounded_number(query, "cutoff", int, None, 0, num_ws),
                noise=noise, noise_seed=bounded_number(query, "noiseseed", int, None, 0, MAX_SEED),
                label=bounded_number(query, "class", int, 0, 0, max(c_dim - 1, 0)),
                mix=bounded_number(query, "mix", int, None, 0, MAX_SEED),
                crossover=bounded_number(query, "crossover", int, num_ws // 2, 0, num_ws),
                mix_rows=mix_rows,
                lerp_to=bounded_number(query, "lerp", int, None, 0, MAX_SEED),
                t=bounded_number(query, "t", float, 0.0, 0.0, 1.0), projection=projection, edits=tuple(edits),
                translate=(bounded_number(query, "tx", float, 0.0, -TRANSLATE_LIMIT, TRANSLATE_LIMIT),
                           bounded_number(query, "ty", float, 0.0, -TRANSLATE_LIMIT, TRANSLATE_LIMIT)),
                rotate=bounded_number(query, "rot", float, 0.0, -180.0, 180.0))


@dataclass
class ProjectionJob:
    steps: int
    step: int = 0
    distance: float | None = None
    done: bool = False
    error: str | None = None
    ws: torch.Tensor | None = None
    noise: dict = field(default_factory=dict)    # the optimized noise maps {layer: [1, 1, r, r]}
    notes: list = field(default_factory=list)

    def status(self) -> dict:
        return {"step": self.step, "steps": self.steps, "distance": self.distance, "done": self.done,
                "error": self.error, "notes": self.notes}


class Explorer:
    """One generator behind a single worker thread. `image`, `features`, `feature_stats` and `latent`
    run on the worker (call them through `submit`); `view_from` validates query parameters.
    `model_name` is what the user passed as --model (shown in the page's command lines)."""

    def __init__(self, G, edits: list[Edit] | None = None, cache_size: int = 256, distance: str = "lpips",
                 model_name: str = "MODEL"):
        self.G = G.eval().requires_grad_(False)
        self.device = device_of(G)
        self.edits = {}
        for edit in edits or []:
            edit.check_model(G, source="--edits")
            self.edits[edit.name] = edit
        self.cache_size = cache_size
        self._ws_cache: OrderedDict = OrderedDict()
        self.model_name = model_name
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="styleforge-model")
        self.projector = ThreadPoolExecutor(max_workers=1, thread_name_prefix="styleforge-projection")
        self.projections: dict[str, ProjectionJob] = {}
        self.distance_kind = distance     # the projection distance: lpips (the reference's) or pixel
        self._distance = None             # built on the first projection (LPIPS may be fetched then)
        self.model_tag = fingerprint(G)   # once: the images' cache tag and the downloads' model fingerprint
        self.groups = layer_groups(G)     # once: the coarse / middle / fine W+ rows (`mixgroup=`, presets)
        self.feature_layers = self._feature_names()

    # -- info ------------------------------------------------------------------------------------
    def _feature_names(self) -> list[str]:
        maps = {}
        with torch.no_grad():
            self.G.synthesis(self.G.mapping(torch.zeros(1, self.G.z_dim, device=self.device),
                                            self._labels(0)), features=maps)
        return [name for name in maps if name.endswith((".conv", ".conv_up", ".input"))]

    def info(self) -> dict:
        G = self.G
        return {"resolution": G.img_resolution, "channels": G.img_channels, "num_ws": G.num_ws,
                "z_dim": G.z_dim, "w_dim": G.w_dim, "c_dim": G.c_dim,
                "family": G.config.family, "layer_groups": self.groups, "model_name": self.model_name,
                "model_tag": self.model_tag[:MODEL_TAG_LENGTH], "default_psi": G.config.default_psi,
                "default_cutoff": G.config.default_cutoff, "thumbnail_sizes": list(THUMBNAIL_SIZES),
                "feature_layers": self.feature_layers, "noise_modes": list(NOISE_MODES),
                "psi_range": list(PSI_RANGE), "max_seed": MAX_SEED, "strength_limit": STRENGTH_LIMIT,
                "edits": [{"name": e.name, "method": e.method, "space": e.space, "description": e.describe()}
                          for e in self.edits.values()],
                "methods": {name: method.description for name, method in METHODS.items()},
                "max_upload_bytes": MAX_UPLOAD_BYTES, "max_projection_steps": MAX_PROJECTION_STEPS,
                "projection_distance": self.distance_kind, "transform": self.transformable,
                "translate_limit": TRANSLATE_LIMIT}

    def view_from(self, query: dict) -> View:
        finished = {k for k, job in self.projections.items() if job.done and job.ws is not None}
        model = query.get("model")
        if model is not None and model != self.model_tag[:MODEL_TAG_LENGTH]:
            raise ModelChanged("this page was opened for another model than the server has now; reload the page")
        view = parse_view(query, self.G.num_ws, set(self.edits), finished, self.groups, self.G.c_dim)
        if (view.translate != (0.0, 0.0) or view.rotate != 0.0) and not self.transformable:
            raise StyleforgeError("tx, ty and rot move StyleGAN3 (alias-free) images; this model's input is a "
                                  "learned constant")
        return view

    @property
    def transformable(self) -> bool:
        return hasattr(self.G.synthesis, "set_transform")

    def submit(self, function, *args):
        """Run `function(*args)` on the model's worker (the only thread that touches the model)."""
        return self.worker.submit(function, *args)

    # -- latents ---------------------------------------------------------------------------------
    def _labels(self, label: int):
        """The one-hot class [1, c_dim] of a conditional model, else None (`latents.one_hot`)."""
        return one_hot(label if self.G.c_dim else None, self.G.c_dim, 1, self.device)

    def _mapped(self, seed: int, label: int = 0) -> torch.Tensor:
        """W+ [1, num_ws, w_dim] of a seed (and class), untruncated (LRU cache)."""
        key = (seed, label)
        if key in self._ws_cache:
            self._ws_cache.move_to_end(key)
            return self._ws_cache[key]
        with torch.no_grad():
            ws = self.G.mapping(z_from_seeds([seed], self.G.z_dim, self.device), self._labels(label))
        self._ws_cache[key] = ws
        if len(self._ws_cache) > self.cache_size:
            self._ws_cache.popitem(last=False)
        return ws

    def _base_ws(self, view: View) -> torch.Tensor:
        """The unedited W+ of a view: seed → interpolation → mixing → truncation; a projection is the
        latent it found (never truncated: ψ applies to sampled latents)."""
        if view.projection is not None:
            return self.projections[view.projection].ws.to(self.device)
        ws = self._mapped(view.seed, view.label)
        if view.lerp_to is not None:
            ws = lerp(ws, self._mapped(view.lerp_to, view.label), view.t)
        if view.mix is not None:
            other = self._mapped(view.mix, view.label)
            ws = (mix(ws, other, mask=list(view.mix_rows)) if view.mix_rows is not None
                  else mix(ws, other, crossover=view.crossover))
        if view.psi != 1:
            ws = truncate(ws, self.G.w_avg, view.psi, view.cutoff)
        return ws

    def _edited(self, view: View, spaces: tuple = ("z", "w", "s")) -> dict:
        """`edit.apply_edits` on the view's W+ with its edits of `spaces`: {'ws': ...} or {'styles': ...}."""
        edits = [(self.edits[name], a) for name, a in view.edits if self.edits[name].space in spaces]
        return apply_edits(self.G, edits, ws=self._base_ws(view))

    def ws_for(self, view: View) -> torch.Tensor:
        """The W+ of a view with its W edits (S edits act after W+, on the styles)."""
        return self._edited(view, spaces=("z", "w"))["ws"]

    def styles_for(self, view: View) -> list[torch.Tensor]:
        """The S of a view with all its edits."""
        edited = self._edited(view)
        return edited["styles"] if "styles" in edited else self.G.styles(edited["ws"])

    # -- products (run on the worker) -------------------------------------------------------------
    def _noise(self, view: View) -> dict:
        """A projection's optimized noise maps (with the `const` noise mode), else none."""
        if view.projection is None or view.noise != "const":
            return {}
        return self.projections[view.projection].noise

    @torch.no_grad()
    def _synthesize(self, view: View, features: dict | None = None) -> torch.Tensor:
        noise_seed = view.seed if view.noise_seed is None else view.noise_seed
        generator = torch.Generator(device=self.device).manual_seed(noise_seed) if view.noise == "random" else None
        if self.transformable:  # the worker owns the model: the view's transform for this render only
            self.G.synthesis.set_transform(view.translate, view.rotate)
        try:
            with noise_maps(self.G, self._noise(view)):
                return self.G.synthesis.from_styles(self.styles_for(view), noise_mode=view.noise,
                                                    generator=generator, features=features)
        finally:
            if self.transformable:
                self.G.synthesis.set_transform()

    def image(self, view: View, size: int | None = None) -> bytes:
        """PNG bytes of the view's image; `size`: a thumbnail at most that many pixels wide."""
        image = to_uint8(self._synthesize(view))[0]
        if size is not None and size < image.shape[1]:
            image = np.asarray(Image.fromarray(image.squeeze(2) if image.shape[2] == 1 else image)
                               .resize((size, size), Image.Resampling.LANCZOS)).reshape(size, size, -1)
        return png(image)

    def _layer_map(self, view: View, layer: str) -> torch.Tensor:
        """One layer's activations [C, h, w] for the view (a render with feature capture)."""
        if layer not in self.feature_layers:
            raise StyleforgeError(f"unknown layer {layer!r} (layers: {', '.join(self.feature_layers)})")
        maps: dict = {}
        self._synthesize(view, maps)
        return maps[layer][0].float().cpu()

    def features(self, view: View, layer: str, channel: int | None = None) -> bytes:
        """PNG of one layer's feature maps: the first 16 channels, or one channel enlarged (each map on
        its own scale)."""
        x = self._layer_map(view, layer)
        if channel is None:
            return png(feature_grid(x))
        if not 0 <= channel < len(x):
            raise StyleforgeError(f"channel must be in 0..{len(x) - 1} for {layer}, got {channel}")
        return png(feature_grid(x[channel:channel + 1], cell=256))

    def feature_stats(self, view: View, layer: str) -> dict:
        """Per-channel mean, std, min and max of one layer's activations, and the layer's shape."""
        activations = self._layer_map(view, layer)                  # [C, h, w]
        x = activations.flatten(1).double()
        columns = {"mean": x.mean(1), "std": x.std(1, unbiased=False), "min": x.min(1).values, "max": x.max(1).values}
        return {"layer": layer, "shape": list(activations.shape),
                **{name: [round(float(v), 6) for v in value] for name, value in columns.items()}}

    def latent(self, view: View, space: str) -> bytes:
        """A latent file's bytes (`latent_files`): W+ [1, num_ws, w_dim] or S [1, s_dim], with a
        projection's noise maps."""
        if space == "wplus":
            latent = latent_for(self.G, "ws", self.ws_for(view), noise=self._noise(view), model=self.model_tag)
        elif space == "s":
            latent = latent_for(self.G, "s", styles_to_vector(self.styles_for(view)), noise=self._noise(view),
                                model=self.model_tag)
        else:
            raise StyleforgeError(f"space must be wplus or s, got {space!r}")
        return latents_bytes(latent)

    # -- projection ------------------------------------------------------------------------------
    def start_projection(self, data: bytes, steps: int, name: str = "upload") -> str:
        """Decode an upload (bounded) and project it into W in the background; returns the job id."""
        if len(data) > MAX_UPLOAD_BYTES:
            raise StyleforgeError(f"upload is larger than {MAX_UPLOAD_BYTES // 2 ** 20} MB")
        if not 1 <= steps <= MAX_PROJECTION_STEPS:
            raise StyleforgeError(f"steps must be in 1..{MAX_PROJECTION_STEPS}, got {steps}")
        if any(not job.done for job in self.projections.values()):
            raise StyleforgeError("a projection is already running; wait for it to finish")
        image = read_image(data, "the upload", max_pixels=MAX_UPLOAD_PIXELS)
        job = ProjectionJob(steps=steps)
        target = target_from_image(image, name, self.G, note=job.notes.append)
        job_id = uuid.uuid4().hex[:12]
        self.projections[job_id] = job
        if len(self.projections) > 32:  # keep the newest finished projections only
            oldest = next(k for k, j in self.projections.items() if j.done)
            self.projections.pop(oldest)

        def progress(step, distances):
            job.step, job.distance = step + 1, float(np.mean(distances))

        def run():
            try:
                if self._distance is None:
                    self._distance = image_distance(self.distance_kind, device=self.device)
                result = project(self.G, target, space="w", distance=self._distance,
                                 settings=ProjectionSettings(steps=steps, w_avg_samples=2000), progress=progress)
                job.ws, job.noise = result.ws, result.noise
            except Exception as error:  # reported to the page; the server keeps running
                job.error = first_line(error)
            finally:
                job.done = True
        self.projector.submit(run)
        return job_id

    def add_latents(self, latent: LatentFile, name: str) -> list[str]:
        """Show the codes of a latent file (z, W or W+, e.g. a saved projection with its noise maps) as
        finished projections, one per row; returns their ids (`?projection=ID`)."""
        if latent.space == "s":
            raise StyleforgeError(f"{name} holds S codes; the explorer starts from W+ (give a W or W+ latent file)")
        ws = load_latent_file(latent, self.G).cpu()
        ids = []
        for row in range(ws.shape[0]):
            job_id = uuid.uuid4().hex[:12]
            self.projections[job_id] = ProjectionJob(
                steps=0, done=True, ws=ws[row:row + 1], notes=[f"from {name}"],
                noise={k: v[row:row + 1] for k, v in latent.noise.items()})
            ids.append(job_id)
        return ids

    def close(self) -> None:
        self.worker.shutdown(wait=False, cancel_futures=True)
        self.projector.shutdown(wait=False, cancel_futures=True)


def png(image: np.ndarray) -> bytes:
    """[H, W, C] uint8 → PNG bytes (fast compression: the page asks for many)."""
    mode = "L" if image.shape[2] == 1 else "RGB"
    buffer = io.BytesIO()
    Image.fromarray(image[:, :, 0] if mode == "L" else image, mode).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
