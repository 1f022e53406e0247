"""On CUDA (`pytest -m gpu`; skipped without a CUDA device): reference parity with TF32 off on every FIR
path, the mixed-precision policy against fp32 within a stated tolerance, and a few training steps."""

import math

import pytest
import torch

import styleforge as sf
from styleforge.checkpoint import from_reference
from styleforge.models.precision import set_mixed_precision
from styleforge.nn import fastpath

from helpers import RandomReals, training_step

pytestmark = pytest.mark.gpu
MIXED_TOLERANCE = 0.02  # fp16 blocks: max |Δ| relative to the image's max (measured on CPU: 1.4e-3)


@pytest.fixture(autouse=True)
def _no_tf32():
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@pytest.mark.parametrize("path", ["auto", "conv", "shift", "fold"])
@pytest.mark.parametrize("fused", [True, False])
@torch.no_grad()
def test_reference_parity_on_cuda(reference_fixture, path, fused):
    g_state, d_state, io, config = reference_fixture
    G = from_reference(g_state, config["G_kwargs"], "G").cuda()
    D = from_reference(d_state, config["D_kwargs"], "D").cuda()
    with fastpath.use(path):
        img = G.synthesis(io["ws"].cuda(), noise_mode="const", fused_modconv=fused)
        assert (img.cpu() - io["img_const"]).abs().max() <= 1e-4
        for images, logits in (("reals", "d_logits_real"), ("img_const", "d_logits_fake")):
            assert (D(io[images].cuda()).cpu() - io[logits]).abs().max() <= 1e-4


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@torch.no_grad()
def test_mixed_precision_stays_close_to_fp32_on_cuda(dtype):
    G = sf.build("small", "G", img_resolution=64, num_fp16_res=2, conv_clamp=256).cuda().eval()
    D = sf.build("small", "D", img_resolution=64, num_fp16_res=2, conv_clamp=256).cuda().eval()
    z = torch.randn(8, G.z_dim, device="cuda")
    image, logits = G(z, None), D(G(z, None))
    set_mixed_precision(G, D, dtype=dtype)
    tolerance = MIXED_TOLERANCE if dtype == torch.float16 else 4 * MIXED_TOLERANCE
    assert (G(z, None) - image).abs().max() / image.abs().max() < tolerance
    assert (D(image) - logits).abs().max() / logits.abs().max() < tolerance
    set_mixed_precision(G, D, dtype=None)
    assert torch.equal(G(z, None), image)


@pytest.mark.parametrize("precision", ["fp32", "mixed", "bf16"])
def test_a_few_training_steps_on_cuda(precision):
    from styleforge.train import training_config
    from styleforge.checkpoint.training_state import Counters

    overrides = dict(num_fp16_res=2, conv_clamp=256)
    config = training_config("small", resolution=32, batch=8, precision=precision,
                             g_overrides=overrides, d_overrides=overrides)
    step = training_step(config, 32, "cuda")
    counters = Counters()
    for _ in range(17):  # every phase, R1 twice
        step.run(counters, RandomReals(32))
    torch.cuda.synchronize()
    assert all(torch.isfinite(p).all() for p in step.G.parameters())
    assert all(math.isfinite(v) for v in step.stats.means(step.ctx).values())
