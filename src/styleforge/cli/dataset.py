"""`styleforge dataset`: make a training-ready zip from a folder, a zip or toyfaces."""

from ..data.tool import RESIZE_FILTERS, TRANSFORMS
from .options import add_command

EXAMPLES = """  styleforge dataset --source ~/photos --dest photos64.zip --resolution 64
  styleforge dataset --source cars.zip --dest cars256.zip --resolution 256 --transform center-crop-wide
  styleforge dataset --source scans/ --dest scans128.zip --resolution 128 --channels 1 --transform pad
  styleforge dataset --source toyfaces --count 10000 --dest toyfaces64.zip --resolution 64
Labels: a dataset.json in the source ({"labels": [["path", 3], ...]}) or one sub-folder per class."""


def register(commands) -> None:
    parser = add_command(commands, "dataset", "Convert images into a training-ready zip archive.", EXAMPLES)
    parser.add_argument("--source", required=True, help="folder, zip, or 'toyfaces'")
    parser.add_argument("--dest", required=True, help="output .zip")
    parser.add_argument("--resolution", type=int, required=True, help="output size (power of two)")
    parser.add_argument("--transform", choices=TRANSFORMS, default="center-crop", help="how to make images square")
    parser.add_argument("--resize-filter", choices=list(RESIZE_FILTERS), default="lanczos", help="resampling filter")
    parser.add_argument("--channels", type=int, choices=[1, 3], default=3, help="1 = grayscale, 3 = RGB")
    parser.add_argument("--count", type=int, default=None, help="images to take (required for toyfaces)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --dest archive")
