"""The `styleforge` command line: parses input, calls the library, renders output."""

import argparse
import importlib
import math
import os
import sys

from ..errors import StyleforgeError
from ..files import describe_os_error
from ..runtime import tune_allocator
from ..version import __version__
from .options import missing_required_model
from . import (analyze, attribute, convert, dataset, demo, edit, generate, inspect, metrics, mix, models, new, project,
               serve, train, video)

COMMANDS = [train, dataset, new, generate, mix, video, project, attribute, edit, analyze, inspect, metrics, convert,
            models, serve, demo]

DESCRIPTION = """styleforge — StyleGAN2 toolkit.

Examples:
  styleforge train --data toyfaces --preset small --kimg 200 --outdir runs
  styleforge dataset --source ~/photos --dest photos64.zip --resolution 64
  styleforge new --preset tiny --out tiny.safetensors
  styleforge generate --model tiny.safetensors --seeds 0-7 --trunc 0.7 --outdir out --grid
  styleforge mix --model tiny.safetensors --rows 1,2 --cols 3-5 --styles 0-3 --outdir out
  styleforge video --model tiny.safetensors --seeds 0-7 --out lerp.mp4
  styleforge project --model tiny.safetensors --target face.png --outdir out
  styleforge edit sefa --model tiny.safetensors --out sefa.safetensors
  styleforge serve --model tiny.safetensors                 # web explorer on http://127.0.0.1:7860
  styleforge inspect --model tiny.safetensors
  styleforge convert --src network-snapshot.pkl --dest model.safetensors
  styleforge generate --model stylegan2-ffhq-1024 --seeds 0-3 --outdir out   # a release by name (styleforge models)
Run `styleforge COMMAND --help` for the options and examples of each command."""


class OneLineErrorParser(argparse.ArgumentParser):
    """Reports a usage mistake as one line (plus a pointer to --help) and exits with code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; `command`: the one being parsed, when known (only `edit` reads its methods
    from the editing registry, which imports torch)."""
    parser = OneLineErrorParser(prog="styleforge", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"styleforge {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND",
                                     parser_class=OneLineErrorParser)
    for module in COMMANDS:
        if module is edit:
            edit.register(commands, methods=command in (None, "edit"))
        else:
            module.register(commands)
    return parser


def _check_finite_options(args) -> None:
    """Every number option must be finite: NaN or Inf never reach the library (nan psi would give
    black images, an infinite learning rate a NaN run reported as done)."""
    for name, value in vars(args).items():
        if isinstance(value, float) and not math.isfinite(value):
            raise StyleforgeError(f"--{name.replace('_', '-')} must be a finite number, got {value}")


# Options whose value may start with '-' but is not a plain number ('-3,0,3', '-3:3:7'): argparse would
# read such a value as an option, so `--strengths -3,0,3` is passed on as `--strengths=-3,0,3`.
DASH_VALUE_OPTIONS = ("--strengths",)


def _join_dash_values(argv: list[str]) -> list[str]:
    out, i = [], 0
    while i < len(argv):
        if argv[i] in DASH_VALUE_OPTIONS and i + 1 < len(argv):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `styleforge` script; returns the exit code (2 for user mistakes)."""
    tune_allocator()
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(next((word for word in argv if not word.startswith("-")), ""))
    args = parser.parse_args(_join_dash_values(argv))
    if not getattr(args, "command_module", None):
        parser.print_help()
        return 2
    missing = missing_required_model(args)
    if missing:
        print(f"styleforge {args.command}: error: the following arguments are required: {missing} "
              f"(see `styleforge {args.command} --help`)", file=sys.stderr)
        return 2
    try:
        _check_finite_options(args)
        # The implementation is imported only now: it needs torch, which --help must not wait for.
        return importlib.import_module(args.command_module).run(args) or 0
    except StyleforgeError as error:
        print(f"styleforge {args.command}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early (before OSError: a subclass)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as error:  # read-only or full disk, a path under a file, a folder where a file goes
        print(f"styleforge {args.command}: error: {describe_os_error(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"styleforge {args.command}: interrupted", file=sys.stderr)
        return 130
