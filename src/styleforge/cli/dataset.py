"""`styleforge dataset`: make a training-ready zip from a folder, a zip or toyfaces."""

from ..data.tool import RESIZE_FILTERS, TRANSFORMS, convert_dataset
from .common import add_command, progress_bar

EXAMPLES = """  styleforge dataset --source ~/photos --dest photos64.zip --resolution 64
  styleforge dataset --source cars.zip --dest cars256.zip --resolution 256 --transform center-crop-wide
  styleforge dataset --source scans/ --dest scans128.zip --resolution 128 --channels 1 --transform pad
  styleforge dataset --source toyfaces --count 10000 --dest toyfaces64.zip --resolution 64
Labels: a dataset.json in the source ({"labels": [["path", 3], ...]}) or one sub-folder per class."""


def register(commands) -> None:
    parser = add_command(commands, "dataset", "Convert images into a training-ready zip archive.", EXAMPLES, run)
    parser.add_argument("--source", required=True, help="folder, zip, or 'toyfaces'")
    parser.add_argument("--dest", required=True, help="output .zip")
    parser.add_argument("--resolution", type=int, required=True, help="output size (power of two)")
    parser.add_argument("--transform", choices=TRANSFORMS, default="center-crop", help="how to make images square")
    parser.add_argument("--resize-filter", choices=list(RESIZE_FILTERS), default="lanczos", help="resampling filter")
    parser.add_argument("--channels", type=int, choices=[1, 3], default=3, help="1 = grayscale, 3 = RGB")
    parser.add_argument("--count", type=int, default=None, help="images to take (required for toyfaces)")


def run(args) -> int:
    with progress_bar(args.count or 0, "dataset") as bar:
        summary = convert_dataset(args.source, args.dest, args.resolution, args.transform,
                                  args.resize_filter, args.channels, args.count, progress=bar.update)
    print(f"wrote {args.dest}: {summary.written} images, {summary.resolution}px, {summary.channels} "
          f"channel(s){', with labels' if summary.labels else ''}; skipped {len(summary.skipped)}")
    for name, reason in summary.skipped:
        print(f"  skipped {name}: {reason}")
    return 0
