"""`styleforge demo`: the main job on the built-in default. Trains the `small` preset on toyfaces for a
fixed 30 kimg (recognizable faces; ~12 min on 2 CPU cores), reports SWD, then writes a sample grid, a
truncation strip (ψ 1 → 0), a style-mixing grid and an interpolation GIF. With --model it only
renders the figures."""

from .options import add_command, seed_type

EXAMPLES = """  styleforge demo                                   # 30 kimg on toyfaces (~12 min on 2 cores), then figures
  styleforge demo --kimg 60 --resolution 64 --outdir out/demo64
  styleforge demo --minutes 5                       # stop after 5 minutes, however far it got
  styleforge demo --model runs/00000-toyfaces32-small/network-snapshot-000020.safetensors"""


def register(commands) -> None:
    parser = add_command(commands, "demo", "Train on toyfaces for a few minutes and write example figures.",
                         EXAMPLES)
    parser.add_argument("--outdir", default="out/demo", help="output folder (the run goes to OUTDIR/run)")
    parser.add_argument("--preset", default="small", help="training preset")
    parser.add_argument("--resolution", type=int, default=32, help="toyfaces resolution")
    parser.add_argument("--kimg", type=float, default=30.0, help="training length in thousands of images")
    parser.add_argument("--minutes", type=float, default=None, help="optional wall-time cap")
    parser.add_argument("--seed", type=seed_type, default=0, help="training seed")
    parser.add_argument("--model", default=None, help="skip training: render figures for this generator")
