"""A per-layer table of a network: resolution, channels, W+ row, S channels and parameter count."""

import re
from dataclasses import dataclass

from torch import nn

from ..nn import Conv2dLayer, FullyConnectedLayer
from .synthesis import SynthesisLayer, ToRGBLayer
from .synthesis_v1 import AdaINLayer

_LAYER_TYPES = (FullyConnectedLayer, Conv2dLayer, SynthesisLayer, ToRGBLayer, AdaINLayer)


@dataclass(frozen=True)
class LayerRow:
    name: str
    resolution: int | None
    in_channels: int
    out_channels: int
    w_index: int | None
    s_channels: int | None
    params: int


def _resolution(name: str) -> int | None:
    if name.startswith("epilogue"):
        return 4
    match = re.search(r"(?:^|\.)b(\d+)\.", name + ".")
    return int(match.group(1)) if match else None


def _count(module: nn.Module, recurse: bool = True) -> int:
    return sum(p.numel() for p in module.parameters(recurse=recurse))


def summarize(model: nn.Module) -> list[LayerRow]:
    """Rows for every layer of a G or D, in forward order (mapping first for G)."""
    styles = {layer.name: layer for layer in getattr(model, "style_layers", [])}
    rows, covered = [], set()
    for name, module in model.named_modules():
        if any(name.startswith(prefix + ".") for prefix in covered):
            continue
        if name.endswith(".b4") and hasattr(module, "const"):
            rows.append(LayerRow(f"{name}.const", 4, 0, module.const.shape[0], None, None,
                                 module.const.numel()))
        if not isinstance(module, _LAYER_TYPES):
            continue
        covered.add(name)
        short = name.removeprefix("synthesis.")
        style = styles.get(short)
        if isinstance(module, FullyConnectedLayer):
            in_ch, out_ch = module.in_features, module.out_features
        else:
            in_ch, out_ch = module.in_channels, module.out_channels
        rows.append(LayerRow(name, _resolution(name), in_ch, out_ch,
                             style.w_index if style else None, style.channels if style else None,
                             _count(module)))
    # The generator registers synthesis before mapping (num_ws comes from synthesis); show forward order.
    return sorted(rows, key=lambda row: not row.name.startswith("mapping."))
