"""`styleforge dataset`: Making a training-ready zip archive (options and examples: cli/dataset.py)."""

from ..data.tool import convert_dataset
from ..files import check_destination
from .common import progress_bar

def run(args) -> int:
    check_destination(args.dest, args.force)
    with progress_bar(args.count or 0, "dataset") as bar:
        summary = convert_dataset(args.source, args.dest, args.resolution, args.transform,
                                  args.resize_filter, args.channels, args.count, progress=bar.update)
    print(f"wrote {args.dest}: {summary.written} images, {summary.resolution}px, {summary.channels} "
          f"channel(s){', with labels' if summary.labels else ''}; skipped {len(summary.skipped)}")
    for name, reason in summary.skipped:
        print(f"  skipped {name}: {reason}")
    return 0
