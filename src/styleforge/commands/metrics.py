"""`styleforge metrics`: Evaluating a generator; results appended to metric-<name>.jsonl (options: cli/metrics.py)."""

from ..data import open_dataset
from ..errors import StyleforgeError
from ..metrics import METRICS, append_result, available, evaluate, parse_metric, work
from .common import load_generator, progress_bar

def list_metrics() -> None:
    """The metric table: name, default count, real data needed, feature network, what it measures."""
    rows = [(name, f"{info.default_num:,}", "yes" if info.needs_data else "no", info.network or "-",
             info.description) for name, info in METRICS.items()]
    header = ("metric", "default N", "real data", "network", "what it measures")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(4)]
    for row in [header] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(row[:4], widths)) + "  " + row[4])
    print(f"names: {available()}")


def run(args) -> int:
    if args.list:
        list_metrics()
        return 0
    if not args.model:
        raise StyleforgeError("--model is required (or --list to see the metrics)")
    specs = [parse_metric(name, args.num) for name in args.metrics.split(",") if name.strip()]
    G = load_generator(args.model, device=args.device, network_key=args.network_key)
    dataset = None
    if args.data:
        dataset = open_dataset(args.data, G.img_resolution if args.data == "toyfaces" else None)
    weights = {"inception": args.inception_weights, "vgg": args.vgg_weights, "lpips": args.lpips_weights}
    for spec in specs:
        with progress_bar(work(spec, dataset), spec.name) as bar:
            record = evaluate(G, spec, dataset, progress=bar.update, weights=weights, cache=not args.no_cache)
        path = append_result(record, args.model)
        extra = f" (recall {record['recall']:.4f})" if "recall" in record else ""
        print(f"{record['metric']}: {record['value']:.4f}{extra}  ({record['seconds']} s; appended to {path})")
        if "warning" in record:
            print(f"  note: {record['warning']}")
    return 0
