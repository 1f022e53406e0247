"""Semantic editing over Z, W, W+ and S: InterFaceGAN boundaries, SeFa and GANSpace directions,
StyleSpace channels — all as `Edit` objects that apply to latents, compose and save to one file. Each
method module registers itself (`registry.METHODS`); importing this package registers them all, in
the order the CLI lists them."""

from .edits import (Edit, apply_edits, apply_to_ws, load_edits, model_dims, parse_layers, save_edits,
                    select_edits, w_sigma)
from .registry import (METHODS, EditContext, EditMethod, MethodResult, at_least, index_list, method, method_label,
                       name_list, register, setting)
from .effects import comparison_table, edit_effects, edit_strip_images, format_table, verified_edits
from .sefa import sefa, sefa_edits, sefa_layers  # registration order = the CLI's order
from .ganspace import ganspace_edits, w_pca
from .interfacegan import condition_boundary, interfacegan_edits, train_boundary
from .stylespace import (attribute_edits, attribute_relevance, channel_edit, channel_names, channel_statistics,
                         gradient_maps, locally_active_channels)

__all__ = ["METHODS", "EditContext", "EditMethod", "MethodResult", "method", "method_label", "register", "setting",
           "index_list", "name_list", "at_least",
           "Edit", "apply_edits", "apply_to_ws", "load_edits", "save_edits", "select_edits", "model_dims",
           "parse_layers", "w_sigma", "sefa", "sefa_edits", "sefa_layers", "w_pca", "ganspace_edits",
           "train_boundary", "condition_boundary", "interfacegan_edits", "channel_statistics",
           "attribute_relevance", "attribute_edits", "channel_edit", "channel_names", "gradient_maps",
           "locally_active_channels", "edit_effects", "comparison_table", "format_table", "edit_strip_images",
           "verified_edits"]
