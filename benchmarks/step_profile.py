"""Kernel calls per training step, counted on CPU with torch.profiler — what a GPU pays for per op
launch: convolutions (and how many are the depthwise FIR filters), copies and layout changes, the
optimizer's kernels, and the self-time share of the top ops. The same graph runs on CUDA, so the
counts carry over even where the timings do not. Drives the public TrainingStep over one 16-step
cycle (every phase: G main, lazy PL, D main, lazy R1), as `styleforge train` does.

--resample conv,fold profiles each FIR path (styleforge.nn.fastpath) one after the other; "auto" is
what the device picks (CPU: conv; CUDA: fold).

Usage: python benchmarks/step_profile.py [--preset small] [--resolution 32] [--batch 16] [--device cpu]
                                         [--resample auto] [--light]
"""

import argparse
import collections
import json

import torch
from torch.profiler import ProfilerActivity, profile
from torch.utils._python_dispatch import TorchDispatchMode  # torch's own (private) dispatch hook

from train_speed import build, training_cycle  # the benchmark's own public-piece setup

from styleforge.nn import fastpath
from styleforge.runtime import tune_allocator
from styleforge.checkpoint.training_state import Counters


def _is_depthwise(event) -> bool:
    """A grouped conv whose weight has one input channel per group: [C, 1, k, k]."""
    shapes = event.input_shapes or []
    return len(shapes) > 1 and len(shapes[1]) == 4 and shapes[1][1] == 1 and shapes[1][0] > 1


def _tensor_copy(event) -> bool:
    """A copy of a real tensor (not the 0-dim wrapping of a Python scalar, which costs no GPU kernel)."""
    shapes = event.input_shapes or []
    return event.name == "aten::copy_" and bool(shapes) and len(shapes[0]) > 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="small")
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--resample", default="auto", help="FIR paths to profile, e.g. conv,shift,fold")
    parser.add_argument("--light", action="store_true",
                        help="count calls in a dispatch mode instead of torch.profiler (no timings, little "
                             "memory: for large configs such as paper256 on a CPU)")
    args = parser.parse_args()
    tune_allocator()
    profiles = []
    for resample in args.resample.split(","):
        fastpath.configure(resample)
        profiles.append(count_cycle(args, resample) if args.light else profile_cycle(args, resample))
    print(json.dumps(profiles, indent=2))


class CallCounter(TorchDispatchMode):
    """Counts the aten calls below autograd: convolutions (forward, depthwise among them, backward),
    real tensor copies and all ops."""

    def __init__(self):
        super().__init__()
        self.counts = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        packet = func._overloadpacket
        self.counts["aten_ops"] += 1
        if packet == torch.ops.aten.convolution:
            self.counts["convolutions"] += 1
            weight = args[1]
            self.counts["depthwise_fir_convolutions"] += int(weight.shape[1] == 1 and weight.shape[0] > 1)
        elif packet == torch.ops.aten.convolution_backward:
            self.counts["convolution_backward"] += 1
        elif packet == torch.ops.aten.copy_ and args[0].ndim > 0:
            self.counts["tensor_copies"] += 1
        return func(*args, **(kwargs or {}))


def count_cycle(args, resample: str) -> dict:
    """Calls per step over one 16-step cycle, counted in a dispatch mode."""
    config, step, reals = build(args.preset, args.resolution, args.batch, args.device)
    counter = CallCounter()
    with counter:
        training_cycle(step, Counters(), reals)
    return {"benchmark": "step_profile", "mode": "dispatch counts", "preset": args.preset,
            "resolution": args.resolution, "batch": args.batch, "device": args.device, "resample": resample,
            "torch": torch.__version__, "per_step": {k: round(v / 16, 1) for k, v in sorted(counter.counts.items())}}


def profile_cycle(args, resample: str) -> dict:
    """Kernel counts per step over one profiled 16-step cycle (after one warm-up cycle)."""
    config, step, reals = build(args.preset, args.resolution, args.batch, args.device)
    counters = Counters()
    training_cycle(step, counters, reals)  # warm-up
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if args.device.startswith("cuda") else [])
    with profile(activities=activities, record_shapes=True) as prof:
        training_cycle(step, counters, reals)
    events = [e for e in prof.events() if e.device_type.name == "CPU"]
    top_level = collections.Counter(e.name for e in events)
    convs = [e for e in events if e.name == "aten::convolution"]
    depthwise = [e for e in convs if _is_depthwise(e)]
    self_time = collections.Counter()
    for e in events:
        self_time[e.name] += e.self_cpu_time_total
    total = sum(self_time.values()) or 1
    per_step = 16
    return {
        "benchmark": "step_profile", "preset": args.preset, "resolution": args.resolution, "batch": args.batch,
        "device": args.device, "resample": resample, "torch": torch.__version__, "steps_profiled": per_step,
        "per_step": {
            "convolutions": round(len(convs) / per_step, 1),
            "depthwise_fir_convolutions": round(len(depthwise) / per_step, 1),
            "tensor_copies": round(sum(_tensor_copy(e) for e in events) / per_step, 1),
            "contiguous_or_layout": round((top_level["aten::contiguous"] + top_level["aten::clone"]) / per_step, 1),
            "aten_ops": round(len(events) / per_step, 1),
            "optimizer_adam_kernels": round(sum(v for k, v in top_level.items() if "adam" in k.lower()) / per_step, 1),
        },
        "self_time_share_top": {name: round(t / total, 3) for name, t in self_time.most_common(12)},
    }


if __name__ == "__main__":
    main()
