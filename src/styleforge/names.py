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
