"""`styleforge models`: the official releases by name, and what the model cache holds."""

from .options import add_command

EXAMPLES = """  styleforge models                                   # release names, their URLs, and the cache
  styleforge generate --model stylegan2-ffhq-1024 --seeds 0-3 --outdir out  # fetched once, then cached
  styleforge generate --model https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metfaces.pkl --seeds 0
The cache is $STYLEFORGE_CACHE/models (default ~/.cache/styleforge/models); every file's SHA-256 is
recorded when it is downloaded and checked when it is used again. An interrupted download resumes."""


def register(commands) -> None:
    parser = add_command(commands, "models", "List the official releases by name and the model cache.", EXAMPLES)
    parser.add_argument("--json", action="store_true", help="print JSON")
