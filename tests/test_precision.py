"""The reference's mixed-precision policy: which blocks switch, how close low precision stays to fp32
(bf16 and fp16 both run on CPU), fp32 exact again afterwards, training steps, and the command line."""

import math

import pytest
import torch

import styleforge as sf
from styleforge.errors import StyleforgeError
from styleforge.models.precision import (apply_precision, compute_dtypes, lowest_low_precision_resolution,
                                         set_mixed_precision)

from helpers import RandomReals, training_step


def _networks(num_fp16_res=2):
    G = sf.build("tiny", "G", img_resolution=32, num_fp16_res=num_fp16_res, conv_clamp=256).eval()
    D = sf.build("tiny", "D", img_resolution=32, num_fp16_res=num_fp16_res, conv_clamp=256).eval()
    return G, D


def test_low_precision_resolutions_follow_the_reference_formula():
    # max(2^(log2 R + 1 − n), 8): paper256 with 4 → 32 and up; 1024 with 4 → 128; never below 8.
    assert lowest_low_precision_resolution(256, 4) == 32
    assert lowest_low_precision_resolution(1024, 4) == 128
    assert lowest_low_precision_resolution(32, 9) == 8
    assert lowest_low_precision_resolution(256, 0) is None
    G, D = _networks(2)
    assert set_mixed_precision(G, D, dtype=torch.float16) == [32, 16]
    assert compute_dtypes(G) == {4: torch.float32, 8: torch.float32, 16: torch.float16, 32: torch.float16}
    assert compute_dtypes(D)[32] == torch.float16 and compute_dtypes(D)[8] == torch.float32


@pytest.mark.parametrize("dtype,tolerance", [(torch.float16, 0.01), (torch.bfloat16, 0.05)])
def test_low_precision_blocks_stay_close_to_fp32_and_fp32_is_exact_again(dtype, tolerance):
    G, D = _networks(2)
    z = torch.randn(4, G.z_dim)
    with torch.no_grad():
        image, logits = G(z, None), D(G(z, None))
        set_mixed_precision(G, D, dtype=dtype)
        for fused in (True, False):
            low = G.synthesis(G.mapping(z, None), fused_modconv=fused)
            assert low.dtype == torch.float32  # the image sums stay fp32
            assert (low - image).abs().max() / image.abs().max() < tolerance
        low_logits = D(image)
        assert low_logits.dtype == torch.float32
        assert (low_logits - logits).abs().max() / logits.abs().max() < tolerance
        set_mixed_precision(G, D, dtype=None)
        assert torch.equal(G(z, None), image)


def test_training_steps_run_with_the_mixed_policy():
    from styleforge.train import training_config
    from styleforge.checkpoint.training_state import Counters

    config = training_config("tiny", resolution=16, batch=4, precision="mixed-bf16",
                             g_overrides=dict(num_fp16_res=2, conv_clamp=256),
                             d_overrides=dict(num_fp16_res=2, conv_clamp=256))
    step = training_step(config, 16)
    G = step.G
    assert compute_dtypes(G)[16] == torch.bfloat16 and compute_dtypes(step.G_ema)[16] == torch.float32
    before = [p.detach().clone() for p in G.parameters()]
    counters = Counters()
    for _ in range(4):  # G main + PL at step 0, D main + R1 at step 0, then main phases
        step.run(counters, RandomReals(16))
    assert all(torch.isfinite(p).all() for p in G.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, G.parameters()))
    stats = step.stats.means(step.ctx)
    assert all(math.isfinite(v) for v in stats.values()) and "loss/r1_penalty" in stats


def test_mixed_policy_needs_num_fp16_res():
    from styleforge.train import training_config

    with pytest.raises(StyleforgeError, match="num_fp16_res 0"):
        training_step(training_config("tiny", resolution=16, batch=4, precision="mixed"), 16)


def test_inference_precision_auto_is_fp32_on_cpu_and_bad_names_are_refused():
    G, _ = _networks(2)
    assert apply_precision(G, "auto") == [] and set(compute_dtypes(G).values()) == {torch.float32}
    assert apply_precision(G, "mixed-bf16") == [32, 16]
    assert apply_precision(G, "fp32") == []
    with pytest.raises(StyleforgeError, match="precision must be one of"):
        apply_precision(G, "half")
    v1 = sf.build("stylegan1-tiny", "G")
    assert apply_precision(v1, "auto") == []


def _run(argv, capsys):
    """(exit code, stderr) of the command line, whether main returns or argparse exits."""
    from styleforge.cli import main

    try:
        code = main(argv)
    except SystemExit as exit_info:
        code = exit_info.code
    return code, capsys.readouterr().err


def test_command_line_precision_options(tmp_path, capsys):
    code, err = _run(["train", "--preset", "tiny", "--kimg", "0.004", "--precision", "mixed",
                      "--outdir", str(tmp_path / "run"), "--device", "cpu"], capsys)
    assert code != 0 and "--precision mixed needs a CUDA device" in err and "Traceback" not in err
    model = tmp_path / "g.safetensors"
    sf.save(sf.build("tiny", "G", img_resolution=16), model)
    code, err = _run(["generate", "--model", str(model), "--seeds", "0", "--precision", "fp32",
                      "--outdir", str(tmp_path / "out")], capsys)
    assert code == 0, err
    code, err = _run(["generate", "--model", str(model), "--seeds", "0", "--precision", "mixed",
                      "--outdir", str(tmp_path / "out")], capsys)
    assert code == 0 and "has num_fp16_res 0, so --precision mixed runs everything in fp32" in err
    code, err = _run(["generate", "--model", str(model), "--seeds", "0", "--precision", "half",
                      "--outdir", str(tmp_path / "out")], capsys)
    assert code != 0 and "invalid choice" in err


def test_mixed_policy_reproduces_the_reference_fp16_outputs():
    """NVIDIA's own fp16 blocks (tests/fixtures/reference-mixed, written by stylegan2-ada-pytorch):
    our discriminator matches them exactly, our generator to within twice the reference's own
    fp16-vs-fp32 gap (measured 5.9e-3 unfused, 9.5e-3 fused: about one fp16 step, 7.8e-3, at the
    image's magnitude of 8.8), and both differ from the fp32 outputs, so fp16 really ran."""
    import json
    from pathlib import Path

    from safetensors import safe_open
    from safetensors.torch import load_file

    from styleforge.checkpoint import from_reference

    fixtures = Path(__file__).parent / "fixtures"
    weights, mixed_file = fixtures / "reference-stylegan2", fixtures / "reference-mixed" / "io.safetensors"
    io, mixed = load_file(weights / "io.safetensors"), load_file(mixed_file)
    kwargs = safe_open(str(mixed_file), "pt").metadata()
    G = from_reference(load_file(weights / "G.safetensors"), json.loads(kwargs["G_kwargs"]), "G")
    D = from_reference(load_file(weights / "D.safetensors"), json.loads(kwargs["D_kwargs"]), "D")
    with torch.no_grad():
        assert (G.synthesis(io["ws"]) - mixed["img_fp32_const"]).abs().max() < 1e-4
        assert set_mixed_precision(G, D, dtype=torch.float16) == [32, 16]
        logits = D(io["reals"])
        assert (logits - mixed["d_logits_real_mixed"]).abs().max() < 1e-5
        assert (logits - mixed["d_logits_real_fp32"]).abs().max() > 1e-5
        gap = (mixed["img_mixed_const"] - mixed["img_fp32_const"]).abs().max()
        for fused in (False, True):
            image = G.synthesis(io["ws"], fused_modconv=fused)
            assert (image - mixed["img_mixed_const"]).abs().max() < 2 * gap
            assert (image - mixed["img_fp32_const"]).abs().max() > 1e-4
