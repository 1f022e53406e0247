"""StyleSpace controls (Wu, Lischinski & Shechtman, CVPR 2021): per-channel statistics of S,
attribute-specific channels (Sec. 5: θ = |mean| / std of z-scored channels over positive examples),
locally-active channels (Sec. 4: gradient maps of the image w.r.t. each channel matched against
semantic regions by the authors' rule) and single-channel edits s_c ← s_c + α·σ_c. ToRGB channels are left out of the
channel searches, as in the paper."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..devices import device_of
from ..errors import StyleforgeError
from ..latents import space_sizes, styles_to_vector, vector_to_styles, z_from_seeds
from .edits import Edit, model_dims
from .effects import verified_edits
from .registry import EditContext, EditMethod, MethodResult, at_least, register, setting

VERIFY_SEEDS = list(range(1000, 1032))  # held out from `edit compare`'s default seeds 0-63


def channel_names(G) -> list[str]:
    """'b16.conv[12]' for every S channel, in the flat S order."""
    return [f"{layer.name}[{c}]" for layer in G.style_layers for c in range(layer.channels)]


def conv_channels(G) -> np.ndarray:
    """Bool [s_dim]: True for the channels of conv layers (ToRGB channels False)."""
    return np.concatenate([np.full(layer.channels, layer.kind == "conv") for layer in G.style_layers])


def channel_statistics(s: np.ndarray, batch: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """(mean [s_dim], std [s_dim]) of S codes [N, s_dim] (read in batches; works on memory maps)."""
    total = np.zeros(s.shape[1], np.float64)
    squares = np.zeros(s.shape[1], np.float64)
    for start in range(0, len(s), batch):
        rows = np.asarray(s[start:start + batch], np.float64)
        total += rows.sum(0)
        squares += np.square(rows).sum(0)
    mean = total / len(s)
    std = np.sqrt(np.maximum(squares / len(s) - mean ** 2, 0) * len(s) / max(len(s) - 1, 1))
    return mean, std


def attribute_relevance(G, s: np.ndarray, scores: np.ndarray, fraction: float = 0.02,
                        statistics: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(θ [s_dim], sign [s_dim]) for one attribute: over the top `fraction` of samples by `scores`
    (the positive examples), θ_c = |mean| / std of the z-scored channel (s_c − μ_c) / σ_c, and the
    sign of that mean (the way to move s_c to add the attribute). ToRGB channels get θ = 0."""
    scores = np.asarray(scores, np.float64).reshape(-1)
    if len(scores) != len(s):
        raise StyleforgeError(f"{len(scores)} scores for {len(s)} S codes")
    count = max(int(len(s) * fraction), 2)
    positives = np.sort(np.argsort(scores, kind="stable")[-count:])
    mean, std = statistics if statistics is not None else channel_statistics(s)
    z = (np.asarray(s[positives], np.float64) - mean) / np.maximum(std, 1e-12)
    theta = np.abs(z.mean(0)) / np.maximum(z.std(0), 1e-12)
    theta[~conv_channels(G)] = 0
    return theta, np.sign(z.mean(0))


def channel_edit(G, channel: int, std: float, sign: float = 1.0, name: str | None = None,
                 info: dict | None = None) -> Edit:
    """The single-channel edit s_c ← s_c + α·σ_c (direction ±e_c in the flat S order)."""
    sizes = space_sizes(G)
    if not 0 <= channel < sizes.s_dim:
        raise StyleforgeError(f"S channel {channel} is outside this model's 0..{sizes.s_dim - 1}")
    direction = torch.zeros(sizes.s_dim)
    direction[channel] = 1.0 if sign >= 0 else -1.0
    label = channel_names(G)[channel]
    return Edit(name or f"stylespace-{label}", "stylespace", "s", direction, unit=float(std),
                dims=model_dims(G), info={"channel": int(channel), "channel_name": label, **(info or {})})


def attribute_edits(G, s: np.ndarray, scores: dict[str, np.ndarray], top: int = 1,
                    fraction: float = 0.02) -> list[Edit]:
    """For each attribute, its `top` most specific channels (largest θ) as single-channel edits
    signed to add the attribute."""
    statistics = channel_statistics(s)
    edits = []
    for name, values in scores.items():
        theta, sign = attribute_relevance(G, s, values, fraction, statistics)
        for rank, channel in enumerate(np.argsort(-theta, kind="stable")[:top]):
            suffix = "" if top == 1 else f"-{rank}"
            edits.append(channel_edit(G, int(channel), statistics[1][channel], sign[channel],
                                      name=f"{name}{suffix}",
                                      info={"factor": name, "theta": float(theta[channel]), "rank": rank}))
    return edits


# ---------------------------------------------------------------------------------------------
# Locally-active channels (Sec. 4)

def gradient_maps(G, styles: torch.Tensor, channels: list[int], size: int = 32, chunk: int = 64) -> torch.Tensor:
    """|∂x/∂s_c| [len(channels), size, size]: how strongly each pixel of the image (area-downsampled
    to `size`, colour channels summed) responds to each style channel, for one S code [1, s_dim] —
    exact forward-mode derivatives (one batched JVP per chunk of channels)."""
    sizes = space_sizes(G)

    def image(s):
        x = G.synthesis.from_styles(vector_to_styles(s, sizes), noise_mode="const")
        return F.adaptive_avg_pool2d(x, size) if x.shape[-1] > size else x

    maps = []
    for start in range(0, len(channels), chunk):
        picked = channels[start:start + chunk]
        base = styles.expand(len(picked), -1).contiguous()
        tangent = torch.zeros_like(base)
        tangent[torch.arange(len(picked)), torch.as_tensor(picked)] = 1
        _, derivative = torch.func.jvp(image, (base,), (tangent,))
        maps.append(derivative.abs().sum(1).detach().cpu())
    return torch.cat(maps)


def top_regions(maps: np.ndarray, labels: np.ndarray, regions: int) -> tuple[np.ndarray, np.ndarray]:
    """The region each channel's gradient map points at in one image, by the authors' rule (StyleSpace
    code: align_mask.py, semantic_channel.py): for a region of o pixels, the channel's mask is its o
    strongest pixels (above the (1 − o/HW) percentile) and scores n / o², n = the pixels it shares with
    the region (the square prefers small regions); the top region has the best score. maps [C, H, W],
    labels [H, W] → (top region [C], which regions the image has [regions])."""
    flat = maps.reshape(len(maps), -1)
    hw = flat.shape[1]
    scores = np.full((len(maps), regions), np.nan)
    for k in range(regions):
        inside = labels.reshape(-1) == k
        area = int(inside.sum())
        if area == 0:
            continue
        threshold = np.percentile(flat, (1 - area / hw) * 100, axis=1, keepdims=True)
        scores[:, k] = ((flat > threshold) & inside).sum(1) / area ** 2
    present = np.isfinite(scores[0])
    return np.nanargmax(scores, axis=1), present


def locally_active_channels(G, predictor, seeds: list[int], share: float = 0.5, lead: float = 0.25,
                            psi: float = 1.0, progress: Callable[[int], None] | None = None) -> dict:
    """{region: [(channel, rate), ...]} — StyleSpace Sec. 4 by the authors' code: per image, each conv
    channel's gradient map (`gradient_maps`, 32 px) picks its top region (`top_regions`, against the
    predictor's region map of that image); a channel's rate for a region is the share of the images
    showing that region in which it was the top one. A channel is locally active in a region when
    that rate is above `share` and leads its next region's rate by more than `lead` (their thresholds
    0.5 and 0.25). Sorted by rate, highest first."""
    if not seeds:
        raise StyleforgeError("locally-active channels need at least one seed")
    device = device_of(G)
    channels = [int(c) for c in np.flatnonzero(conv_channels(G))]
    regions = predictor.config.regions
    size = predictor.config.resolution
    counts = np.zeros((len(channels), len(regions)))
    shown = np.zeros(len(regions))
    predictor = predictor.to(device)
    for seed in seeds:
        with torch.no_grad():
            ws = G.mapping(z_from_seeds([seed], G.z_dim, device), None, psi=psi)
            s = styles_to_vector(G.styles(ws))
            picture = G.synthesis.from_styles(vector_to_styles(s, space_sizes(G)), noise_mode="const")
            labels = predictor(picture.clamp(-1, 1))[1].argmax(1)[0].cpu().numpy()  # [size, size]
        maps = gradient_maps(G, s, channels, size=size).numpy()  # [channels, size, size]
        top, present = top_regions(maps, labels, len(regions))
        counts[np.arange(len(channels)), top] += 1
        shown += present
        if progress is not None:
            progress(1)
    rates = counts / np.maximum(shown, 1)
    result = {}
    for k, region in enumerate(regions):
        others = np.delete(rates, k, axis=1).max(1) if len(regions) > 1 else np.zeros(len(channels))
        found = np.flatnonzero((rates[:, k] > share) & (rates[:, k] - others > lead))
        result[region] = sorted(((channels[i], float(rates[i, k])) for i in found), key=lambda item: -item[1])
    return result


@dataclass(frozen=True)
class StylespaceSettings:
    """Options of `styleforge edit stylespace` (besides the scored samples' options)."""

    top: int = setting(1, "channels kept per factor", parse=at_least(1))
    candidates: int = setting(40, "channels ranked by θ that are checked with the predictor on held-out seeds; "
                                  "the --top with the most specific effect are kept (1 = θ alone)", parse=at_least(1))
    local_seeds: int = setting(0, "also find locally-active channels per region over N images (gradient maps, "
                                  "the authors' area-matched rule)",
                               parse=at_least(0))


def _compute(G, settings: StylespaceSettings, context: EditContext) -> MethodResult:
    names = context.factor_names(context.factors)
    data = context.samples()
    edits = attribute_edits(G, np.asarray(data.codes("s")), context.scores(data, names),
                            top=max(settings.top, settings.candidates), fraction=context.fraction)
    if settings.candidates > settings.top:
        with context.progress(len(edits), "check channels") as bar:
            edits = verified_edits(G, context.predictor, edits, VERIFY_SEEDS, keep=settings.top, psi=context.psi,
                                   progress=bar.update)
    result = MethodResult(edits)
    if settings.local_seeds:
        with context.progress(settings.local_seeds, "gradient maps") as bar:
            regions = locally_active_channels(G, context.predictor, list(range(settings.local_seeds)),
                                              psi=context.psi, progress=bar.update)
        labels = channel_names(G)
        record = {region: [{"channel": c, "name": labels[c], "rate": rate} for c, rate in found]
                  for region, found in regions.items()}
        result.records["regions"] = record
        for region, found in record.items():
            shown = ", ".join(f"{f['name']} ({f['rate']:.2f})" for f in found[:5])
            result.lines.append(f"locally active in {region:10s}: {len(found):4d} channels  {shown}")
    return result


register(EditMethod(
    "stylespace", "attribute-specific and locally-active StyleSpace channels", StylespaceSettings, _compute,
    learns=True, needs_predictor=True,
    examples=("styleforge edit stylespace --model m.safetensors --predictor p.safetensors --top 3 --local-seeds 16 --out ss.safetensors",)))
