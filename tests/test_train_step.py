"""The public training step: the benchmark drives the very same step as `train()` (M2)."""

import importlib.util
from pathlib import Path

import torch
from safetensors.torch import load_file

from styleforge.train import train, training_config
from styleforge.checkpoint.training_state import Counters

BENCHMARK = Path(__file__).parent.parent / "benchmarks" / "train_speed.py"


def _benchmark_module():
    spec = importlib.util.spec_from_file_location("train_speed", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_step_equals_the_training_loop_step(tmp_path):
    """16 steps (PL at 0, 4, 8, 12; R1 at 0) from the same seed: identical weights, path-length
    mean, Adam state and losses, bit for bit."""
    bench = _benchmark_module()
    config, step, reals = bench.build("tiny", 16, 8, "cpu")
    counters = Counters()
    bench.training_cycle(step, counters, reals)
    losses = {name: total / count for name, (total, count) in step.stats.sums.items()}

    logged = []
    result = train(training_config("tiny", resolution=16, batch=8, kimg=0.128, snapshot_kimg=0.128),
                   tmp_path, progress=lambda entry: logged.append(entry) if "loss/G" in entry else None)
    assert result.cur_nimg == counters.cur_nimg == 128
    state = load_file(next((result.run_dir / "checkpoints").iterdir()))
    for prefix, module in (("G", step.G), ("D", step.D), ("G_ema", step.G_ema)):
        for name, value in module.state_dict().items():
            assert torch.equal(state[f"{prefix}.{name}"], value), f"{prefix}.{name}"
    assert torch.equal(state["pl_mean"], step.pl_mean.reshape(1))
    assert torch.equal(state["opt_G.0.exp_avg_sq"], step.opt_G.state_dict()["state"][0]["exp_avg_sq"])
    # The loop's one log line (at the end) holds the means of the same per-sample losses.
    assert set(losses) == {"loss/G", "loss/D", "loss/pl_penalty", "loss/r1_penalty"}
    assert {name: logged[-1][name] for name in losses} == losses
