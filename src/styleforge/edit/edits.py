"""One edit format for every method: a direction in Z, W (broadcast to chosen W+ rows) or S, a unit
of strength, and the sizes of the model it was computed for; edits compose and serialize to one
small safetensors file (InterFaceGAN, SeFa, GANSpace and StyleSpace all produce these).

Applying edits (`apply_edits`) follows the generator's order: Z edits, then mapping (with
truncation), then W edits on their W+ rows, then S edits on the styles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..devices import device_of
from ..errors import StyleforgeError
from ..latents import LAYER_GROUPS, layer_groups, space_sizes, styles_to_vector, truncate, vector_to_styles, w_to_ws
from ..seeds import parse_int_list
from ..tagged import json_field, read_tagged, write_tagged

FORMAT = "styleforge.edits"
VERSION = 1
SPACES = ("z", "w", "s")
METHOD_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")   # a registered method's name, or e.g. 'custom'


@dataclass
class Edit:
    """A direction `direction` in `space`; strength α moves a code by α·unit·direction (`to_distance`:
    a 2-D code is moved to signed distance α·unit from the boundary instead, InterFaceGAN's released
    code). W edits act on the W+ rows in `layers` (None: all). `dims` are the sizes of the model the
    edit was computed for; `info` holds what the method measured (accuracy, eigenvalue, channel)."""

    name: str
    method: str
    space: str
    direction: torch.Tensor          # [z_dim] | [w_dim] | [s_dim] (S flattened in synthesis order)
    unit: float = 1.0
    layers: tuple | None = None
    to_distance: bool = False
    dims: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.space not in SPACES:
            raise StyleforgeError(f"edit space must be one of {', '.join(SPACES)}, got {self.space!r}")
        if not isinstance(self.method, str) or not METHOD_PATTERN.fullmatch(self.method):
            raise StyleforgeError(f"edit method must be a short lower-case name like 'sefa', got {self.method!r}")
        if not isinstance(self.unit, (int, float)) or isinstance(self.unit, bool) or not 0 < self.unit < float("inf"):
            raise StyleforgeError(f"edit {self.name!r}: unit must be a positive finite number, got {self.unit!r}")
        self.unit = float(self.unit)
        self.direction = torch.as_tensor(self.direction, dtype=torch.float32).detach().cpu().flatten()
        if not bool(torch.isfinite(self.direction).all()):
            raise StyleforgeError(f"edit {self.name!r}: its direction holds NaN or infinite values")
        if self.layers is not None:
            self.layers = tuple(int(i) for i in self.layers)
        if self.layers is not None and self.space != "w":
            raise StyleforgeError(f"edit {self.name!r}: a layer range applies to W edits only")

    def check_model(self, G, source: str = "this edit") -> None:
        """Refuse an edit computed for a model with other latent sizes (one line naming both)."""
        mine = model_dims(G)
        keys = {"z": ("z_dim",), "w": ("w_dim", "num_ws"), "s": ("s_channels",)}[self.space]
        theirs = {k: self.dims.get(k) for k in keys}
        expected = {"z": G.z_dim, "w": G.w_dim, "s": mine["s_channels"]}[self.space]
        if self.direction.numel() != (expected if isinstance(expected, int) else sum(expected)) or \
                any(theirs[k] is not None and theirs[k] != mine[k] for k in keys):
            described = ", ".join(f"{k} {_short(theirs[k])}" for k in keys)
            own = ", ".join(f"{k} {_short(mine[k])}" for k in keys)
            raise StyleforgeError(f"{source} ({self.name}) was computed for a model with {described}; "
                                  f"this model has {own}")
        if self.layers is not None:
            bad = [i for i in self.layers if not 0 <= i < G.num_ws]
            if bad:
                raise StyleforgeError(f"{source} ({self.name}) edits W+ layer {bad[0]}, outside this model's "
                                      f"0..{G.num_ws - 1}")

    def describe(self) -> str:
        where = self.space.upper() if self.space != "w" else (
            "W" if self.layers is None else f"W+ rows {_ranges(self.layers)}")
        return f"{self.name} [{self.method}, {where}, unit {self.unit:.4g}]"


def _short(value) -> str:
    return f"{sum(value)} channels" if isinstance(value, (list, tuple)) else str(value)


def _ranges(values) -> str:
    """(0, 1, 2, 5) → '0-2,5'."""
    values = sorted(values)
    parts, start, prev = [], values[0], values[0]
    for value in values[1:] + [None]:
        if value is not None and value == prev + 1:
            prev = value
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = value
    return ",".join(parts)


def model_dims(G) -> dict:
    """The latent sizes an edit must match: z_dim, w_dim, num_ws and S channels per layer."""
    return {"z_dim": G.z_dim, "w_dim": G.w_dim, "num_ws": G.num_ws,
            "s_channels": list(space_sizes(G).s_channels)}


def parse_layers(G, spec: str | list | tuple | None) -> tuple | None:
    """W+ rows from 'all' (None), 'coarse' / 'middle' / 'fine' (4–8, 16–32, 64+ px), or a list like
    '0-3,6' — each checked against this model's W+ (0..num_ws−1)."""
    if spec is None or spec == "all":
        return None
    if isinstance(spec, str) and spec in LAYER_GROUPS:
        rows = layer_groups(G).get(spec)
        if not rows:
            raise StyleforgeError(f"this {G.img_resolution} px model has no {spec} layers "
                                  f"({LAYER_GROUPS[spec][0]}+ px); use all, coarse, middle or explicit rows")
        return tuple(rows)
    rows = parse_int_list(spec, "layers") if isinstance(spec, str) else [int(i) for i in spec]
    bad = [i for i in rows if not 0 <= i < G.num_ws]
    if bad:
        raise StyleforgeError(f"layer {bad[0]} is outside W+ of this model (0..{G.num_ws - 1})")
    return tuple(sorted(set(rows)))


def sample_w(G, count: int, rng: torch.Generator) -> torch.Tensor:
    """w [count, w_dim] = mapping(z) for z from `rng` (a conditional model gets random classes)."""
    device = device_of(G)
    z = torch.randn([count, G.z_dim], generator=rng)
    c = None
    if G.c_dim:
        c = torch.nn.functional.one_hot(torch.randint(G.c_dim, [count], generator=rng), G.c_dim).float().to(device)
    with torch.no_grad():
        return G.mapping(z.to(device), c)[:, 0]


@torch.no_grad()
def w_sigma(G, directions: torch.Tensor, samples: int = 10_000, seed: int = 0, batch: int = 4096) -> torch.Tensor:
    """Standard deviation [k] of mapped samples w = mapping(z) along each of `directions` [k, w_dim]
    (the unit of strength of W edits, so that ±3 means ±3σ of the model's own distribution)."""
    rng = torch.Generator().manual_seed(seed)
    projections = []
    for start in range(0, samples, batch):
        w = sample_w(G, min(batch, samples - start), rng)
        projections.append(w.cpu() @ directions.T.to(torch.float32))
    return torch.cat(projections).std(0)


# ---------------------------------------------------------------------------------------------
# Applying edits

def _move(codes: torch.Tensor, edit: Edit, strength: float) -> torch.Tensor:
    """codes [N, D] moved along the edit (Eq. of InterFaceGAN Sec. 2.2: z' = z + αn)."""
    n = edit.direction.to(codes.device, codes.dtype)
    if edit.to_distance:
        distance = codes @ n  # [N] signed distance to the boundary through the origin
        return codes + (strength * edit.unit - distance)[:, None] * n
    return codes + strength * edit.unit * n


def apply_to_ws(ws: torch.Tensor, edit: Edit, strength: float) -> torch.Tensor:
    """W+ [N, num_ws, w_dim] with a W edit added on its rows (all rows when edit.layers is None)."""
    rows = list(edit.layers) if edit.layers is not None else list(range(ws.shape[1]))
    out = ws.clone()
    if edit.to_distance:
        for row in rows:
            out[:, row] = _move(ws[:, row], edit, strength)
        return out
    out[:, rows] = ws[:, rows] + strength * edit.unit * edit.direction.to(ws.device, ws.dtype)
    return out


def apply_edits(G, edits: list[tuple[Edit, float]], *, z: torch.Tensor | None = None,
                ws: torch.Tensor | None = None, psi: float = 1.0, cutoff: int | None = None,
                class_labels: torch.Tensor | None = None) -> dict:
    """Edited latents, ready for `pipeline.render(G, **result)`: {'ws': W+} or {'styles': S}.

    Give z [N, z_dim] (Z edits allowed; mapped with truncation ψ after them) or W+ [N, num_ws, w_dim]
    (a projected latent; truncated by ψ if ψ ≠ 1). Edits compose: all Z edits, then W, then S.
    """
    if (z is None) == (ws is None):
        raise StyleforgeError("give exactly one of z or ws to edit")
    for edit, _ in edits:
        edit.check_model(G)
    by_space = {space: [(e, s) for e, s in edits if e.space == space] for space in SPACES}
    if by_space["z"] and z is None:
        names = ", ".join(e.name for e, _ in by_space["z"])
        raise StyleforgeError(f"edit {names} is in Z, but a W+ latent (e.g. a projection) has no z; "
                              "use an edit computed in W")
    with torch.no_grad():
        if z is not None:
            for edit, strength in by_space["z"]:
                z = _move(z, edit, strength)
            ws = G.mapping(z, class_labels, psi=psi, cutoff=cutoff)
        elif psi != 1:
            ws = truncate(ws, G.w_avg, psi, cutoff)
        if ws.ndim == 2:
            ws = w_to_ws(ws, G.num_ws)
        for edit, strength in by_space["w"]:
            ws = apply_to_ws(ws, edit, strength)
        if not by_space["s"]:
            return {"ws": ws}
        sizes = space_sizes(G)
        s = styles_to_vector(G.styles(ws))
        for edit, strength in by_space["s"]:
            s = _move(s, edit, strength)
        return {"styles": vector_to_styles(s, sizes)}


# ---------------------------------------------------------------------------------------------
# Files

def save_edits(edits: list[Edit], path: str | Path) -> Path:
    """Write edits to one safetensors file (directions as tensors, the rest as JSON metadata)."""
    if not edits:
        raise StyleforgeError("no edits to save")
    records = [{"name": e.name, "method": e.method, "space": e.space, "unit": e.unit,
                "layers": list(e.layers) if e.layers is not None else None, "to_distance": e.to_distance,
                "dims": e.dims, "info": e.info} for e in edits]
    tensors = {f"direction.{i}": e.direction for i, e in enumerate(edits)}
    return write_tagged(path, FORMAT, VERSION, tensors, {"edits": records})


def load_edits(path: str | Path) -> list[Edit]:
    """Every edit in a file written by `save_edits`."""
    metadata, tensors = read_tagged(path, FORMAT, VERSION, "a styleforge edit file",
                                    "write one with `styleforge edit sefa|ganspace|interfacegan|stylespace`")
    records = json_field(path, metadata, "edits")
    try:
        return [Edit(direction=tensors[f"direction.{i}"], **{
            k: (tuple(v) if k == "layers" and v is not None else v) for k, v in record.items()})
            for i, record in enumerate(records)]
    except StyleforgeError:
        raise
    except (KeyError, TypeError, AttributeError) as error:  # a record or tensor missing or mistyped
        raise StyleforgeError(f"{path} is damaged: edit records do not match its tensors ({error})") from None


def select_edits(edits: list[Edit], which: str | None, source: str) -> list[Edit]:
    """Edits picked by name or by index list ('0-2,5'); all when `which` is None."""
    if which is None:
        return edits
    names = [e.name for e in edits]
    if which in names:
        return [edits[names.index(which)]]
    try:
        indices = parse_int_list(which, "edit index")
    except StyleforgeError:
        raise StyleforgeError(f"{source} has no edit named {which!r} (it has: {', '.join(names)})") from None
    bad = [i for i in indices if not 0 <= i < len(edits)]
    if bad:
        raise StyleforgeError(f"{source} has {len(edits)} edits (0..{len(edits) - 1}); there is no edit {bad[0]}")
    return [edits[i] for i in indices]
