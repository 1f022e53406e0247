"""Names shared by the library and the command line, kept free of heavy imports so that parsing
command-line options never waits for torch."""

NETWORK_KEYS = ("G_ema", "G", "D")          # networks of a multi-network file (pickles, checkpoints)
GENERATOR_KEYS = ("G_ema", "G")
NOISE_MODES = ("const", "random", "none")   # per-pixel noise: the model's fixed maps, fresh, or none
ACTIVATION_NAMES = ("linear", "relu", "lrelu", "tanh", "sigmoid", "elu", "selu", "softplus", "swish")

# Inference precision of a loaded generator (models.precision.apply_precision).
INFERENCE_PRECISIONS = ("auto", "fp32", "mixed", "mixed-bf16")

# Bounds on numbers a user gives (command line and explorer): a finite but huge ψ or edit strength
# overflows to black images.
MAX_SEED = 2 ** 32 - 1     # numpy's RandomState, as the reference tools seed z
PSI_LIMIT = 10.0           # |ψ|: 1 = no truncation, 0 = the average; beyond ±10 nothing meaningful is left
STRENGTH_LIMIT = 20.0      # |edit strength| in units of the edit's σ

# The official StyleGAN2 releases this version loads, by short name → published URL (stylegan3's README
# lists the NGC files, stylegan2-ada-pytorch's README its pretrained folder). `--model NAME` fetches one.
_NGC = "https://api.ngc.nvidia.com/v2/models/nvidia/research/stylegan2/versions/1/files"
_ADA = "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained"
MODEL_RELEASES = {
    **{f"stylegan2-{data}-{size}": f"{_NGC}/stylegan2-{data}-{size}x{size}.pkl" for data, size in (
        ("ffhq", 1024), ("ffhq", 512), ("ffhq", 256), ("ffhqu", 1024), ("ffhqu", 256), ("metfaces", 1024),
        ("metfacesu", 1024), ("afhqv2", 512), ("afhqcat", 512), ("afhqdog", 512), ("afhqwild", 512),
        ("brecahad", 512), ("cifar10", 32), ("celebahq", 256), ("lsundog", 256))},
    **{f"stylegan2-ada-{data}-{size}": f"{_ADA}/{data}.pkl" for data, size in (
        ("ffhq", 1024), ("metfaces", 1024), ("afhqcat", 512), ("afhqdog", 512), ("afhqwild", 512),
        ("brecahad", 512), ("cifar10", 32))},
}
