"""Training end to end on tiny presets: weights change, exact resume, multi-process equivalence,
run directory contents, conditional training, fine-tuning options."""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import styleforge as sf
from styleforge.train import train, training_config
from styleforge.train.tensorboard import crc32c, read_scalars

STEPS_KIMG = 0.048  # 6 steps of batch 8


def _config(**options):
    options = {"kimg": STEPS_KIMG, "snapshot_kimg": 0.016, "resolution": 16, **options}
    return training_config("tiny", **options)


def _final_state(run_dir: Path) -> dict:
    return load_file(sorted((run_dir / "checkpoints").glob("checkpoint-*.safetensors"))[-1])


def _assert_same_weights(a: dict, b: dict, atol: float = 0.0):
    keys = [k for k in a if k.split(".")[0] in ("G", "D", "G_ema", "opt_G", "opt_D", "pl_mean")]
    assert keys and set(keys) <= set(b)
    for k in keys:
        if atol == 0:
            assert torch.equal(a[k], b[k]), k
        else:
            assert torch.allclose(a[k], b[k], atol=atol, rtol=0), (k, (a[k] - b[k]).abs().max())


def test_a_few_steps_change_the_weights_and_write_the_run_directory(tmp_path):
    result = train(_config(), tmp_path)
    run = result.run_dir
    assert result.status == "done" and result.cur_nimg == 48
    names = {p.name for p in run.iterdir()}
    assert {"config.json", "log.jsonl", "reals.png", "checkpoints"} <= names
    assert any(n.startswith("fakes-") for n in names) and any(n.startswith("events.out.tfevents") for n in names)
    assert len(list((run / "checkpoints").iterdir())) == 3  # keep_checkpoints
    state = _final_state(run)
    torch.manual_seed(0)
    initial = sf.build("tiny", "G", resolution=16)
    changed = [k for k, v in initial.state_dict().items()
               if k.endswith("weight") and not torch.equal(v, state[f"G.{k}"])]
    assert len(changed) > 10
    assert not torch.equal(state["G.mapping.w_avg"], torch.zeros_like(state["G.mapping.w_avg"]))
    snapshot = sf.load(result.snapshot)  # the exported G_ema loads like any model
    assert isinstance(snapshot, sf.Generator)
    entries = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert entries[-1]["kimg"] == pytest.approx(0.048) and "loss/G" in entries[-1]
    scalars = read_scalars(next(run.glob("events.out.tfevents*")))
    assert any(tag == "loss/D" for _, tag, _ in scalars)


def test_metrics_at_each_snapshot_go_to_jsonl_and_tensorboard(tmp_path):
    result = train(_config(metrics=("swd40",), kimg=0.016), tmp_path)
    records = [json.loads(line) for line in (result.run_dir / "metric-swd40.jsonl").read_text().splitlines()]
    assert [r["kimg"] for r in records] == [0.016] and records[0]["value"] > 0
    scalars = read_scalars(next(result.run_dir.glob("events.out.tfevents*")))
    assert any(tag == "metrics/swd40" for _, tag, _ in scalars)


def test_crc32c_known_value():
    assert crc32c(b"123456789") == 0xE3069283


def test_resume_with_longer_kimg_equals_one_long_run(tmp_path):
    long = train(_config(kimg=2 * STEPS_KIMG), tmp_path / "long")
    first = train(_config(kimg=STEPS_KIMG), tmp_path / "split")
    resumed = train(_config(kimg=2 * STEPS_KIMG), tmp_path / "split", resume="auto")
    assert resumed.run_dir == first.run_dir and resumed.cur_nimg == long.cur_nimg
    _assert_same_weights(_final_state(long.run_dir), _final_state(resumed.run_dir))


def test_interrupted_run_resumes_to_the_same_weights(tmp_path):
    full = train(_config(), tmp_path / "full")

    def interrupt(entry):
        if entry["kimg"] >= 0.016:
            os.kill(os.getpid(), signal.SIGTERM)

    stopped = train(_config(), tmp_path / "cut", progress=interrupt)
    assert stopped.status == "interrupted" and stopped.cur_nimg < 48
    resumed = train(_config(), tmp_path / "cut", resume=str(stopped.run_dir))
    assert resumed.status == "done"
    _assert_same_weights(_final_state(full.run_dir), _final_state(resumed.run_dir))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_processes_match_one_process_with_the_same_global_batch(tmp_path):
    common = ["--data", "toyfaces", "--preset", "tiny", "--resolution", "16", "--kimg", "0.032",
              "--batch", "8", "--snap", "1"]
    # One thread everywhere, so both runs use the same conv kernels and reduction orders.
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    single = subprocess.run([sys.executable, "-m", "styleforge", "train", *common, "--batch-gpu", "4",
                             "--outdir", str(tmp_path / "one")], capture_output=True, text=True, env=env)
    assert single.returncode == 0, single.stderr
    multi = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                            "--master_addr=127.0.0.1", f"--master_port={_free_port()}",
                            "-m", "styleforge", "train", *common, "--outdir", str(tmp_path / "two")],
                           capture_output=True, text=True, env=env, timeout=300)
    assert multi.returncode == 0, multi.stderr[-3000:]
    runs = [next((tmp_path / name).iterdir()) for name in ("one", "two")]
    config = json.loads((runs[1] / "config.json").read_text())
    assert config["world_size"] == 2 and config["batch_gpu"] == 4
    _assert_same_weights(_final_state(runs[0]), _final_state(runs[1]), atol=1e-5)


def test_conditional_training_on_labelled_folders(tmp_path):
    from PIL import Image

    for cls, colour in (("cats", (200, 50, 50)), ("dogs", (50, 50, 200))):
        (tmp_path / "data" / cls).mkdir(parents=True)
        for i in range(4):
            Image.new("RGB", (16, 16), colour).save(tmp_path / "data" / cls / f"{i}.png")
    with pytest.raises(sf.StyleforgeError, match="needs 1000 real images but the dataset has 8"):
        train(_config(data=str(tmp_path / "data"), cond=True, resolution=None, metrics=("swd1k",)),
              tmp_path / "runs")
    result = train(_config(data=str(tmp_path / "data"), cond=True, resolution=None, mirror=True,
                           kimg=0.016), tmp_path / "runs")
    G = sf.load(result.snapshot)
    assert G.c_dim == 2


def test_init_from_and_freeze_d(tmp_path):
    source = sf.build("tiny", "G", resolution=16)
    path = sf.save(source, tmp_path / "pre.safetensors")
    result = train(_config(init_from=str(path), freeze_d=2, kimg=0.016), tmp_path / "runs")
    state = _final_state(result.run_dir)
    torch.manual_seed(0)  # the loop builds G, then D, from the seeded stream
    sf.build("tiny", "G", resolution=16)
    D0 = sf.build("tiny", "D", resolution=16)
    assert torch.equal(state["D.b16.from_rgb.weight"], D0.b16.from_rgb.weight)  # frozen
    assert torch.equal(state["D.b16.conv.weight"], D0.b16.conv.weight)  # frozen
    assert not torch.equal(state["D.b16.conv_down.weight"], D0.b16.conv_down.weight)  # trained
    assert not torch.equal(state["G.synthesis.b4.const"], source.synthesis.b4.const)  # started from it


def test_train_cli_errors_are_one_line(tmp_path, capsys):
    from styleforge.cli import main

    assert main(["train", "--data", str(tmp_path / "missing"), "--outdir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "dataset not found" in err[0]
    assert main(["train", "--preset", "tiny", "--batch", "6", "--outdir", str(tmp_path)]) == 2
    assert "minibatch-stddev" in capsys.readouterr().err
    assert main(["train", "--preset", "tiny", "--precision", "bf16", "--device", "cpu",
                 "--outdir", str(tmp_path)]) == 2
    assert "needs a CUDA device" in capsys.readouterr().err
