"""Analysis of latent spaces on toyfaces, whose factors are known: the attribute predictor (factors
and region maps), latent datasets, DCI (Eastwood & Williams 2018), linear separability (StyleGAN
Sec. 4.2), feature maps and their spikiness, and the HTML report."""

from .dci import dci, dci_from_importance, importance_matrix
from .droplets import droplet_comparison, droplet_figure, resolution_spikiness
from .feature_maps import feature_grid, layer_features, layer_spikiness, spikiness
from .latent_dataset import LatentDataset, build_latent_dataset, open_latent_dataset
from .predictor import (AttributePredictor, PredictorConfig, evaluate_predictor, load_predictor,
                        save_predictor, train_predictor)
from .report import analysis_report, report_stages
from .separability import conditional_entropy_bits, separability

__all__ = ["dci", "dci_from_importance", "importance_matrix", "separability", "conditional_entropy_bits",
           "spikiness", "layer_spikiness", "layer_features", "feature_grid", "AttributePredictor",
           "PredictorConfig", "train_predictor", "evaluate_predictor", "save_predictor", "load_predictor",
           "LatentDataset", "build_latent_dataset", "open_latent_dataset", "analysis_report", "report_stages",
           "droplet_comparison", "droplet_figure", "resolution_spikiness"]
