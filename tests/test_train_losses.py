"""Losses and regularizers against direct formulas (StyleGAN2 Sec. 3, App. B)."""

import math

import pytest
import torch

from styleforge.checkpoint import from_reference
from styleforge.train import training_config
from styleforge.train.step import draw_fakes
from styleforge.train.step import lazy_adam as _adam
from styleforge.train.step import update_ema as _update_ema
from styleforge.train.loss import SubBatch, path_length_penalty, r1_penalty

from helpers import tiny


def _sub(real=None, z=None, cutoff=None, seed=0, num_ws=6):
    n = (real if real is not None else z).shape[0]
    z = z if z is not None else torch.randn(n, 32)
    return SubBatch(real_img=real, real_c=None, gen_z=z, gen_c=None, mix_z=torch.randn_like(z),
                    mix_cutoff=cutoff or num_ws, generator=torch.Generator().manual_seed(seed))


def test_r1_per_sample_matches_the_reference_fixture(reference_fixture):
    _, d_state, io, config = reference_fixture
    D = from_reference(d_state, config["D_kwargs"], "D")
    r1 = r1_penalty(D, _sub(real=io["reals"]))
    expected = io["r1_grad_sq_sum"]
    assert torch.allclose(r1.detach(), expected, rtol=1e-4, atol=1e-9)


def test_path_length_matches_a_hand_computed_jacobian():
    G = tiny("G", resolution=8).train()
    z = torch.randn(2, G.z_dim)
    sub = _sub(z=z, seed=3, num_ws=G.num_ws)
    pl_mean, decay = torch.tensor(0.3), 0.01
    penalty, lengths = path_length_penalty(G, sub, pl_mean, shrink=1, decay=decay)

    ws = G.mapping(z).detach()
    replay = torch.Generator().manual_seed(3)
    img = G.synthesis(ws, noise_mode="random", generator=replay)  # same noise draws as above
    y = torch.randn(img.shape, generator=replay) / math.sqrt(img.shape[2] * img.shape[3])

    def synth(w):
        return G.synthesis(w, noise_mode="random", generator=torch.Generator().manual_seed(3))

    jacobian = torch.autograd.functional.jacobian(synth, ws)  # [N, C, H, W, N, num_ws, w_dim]
    expected = []
    for i in range(2):
        jty = torch.einsum("chw,chwlk->lk", y[i], jacobian[i, :, :, :, i])  # Jᵀy for sample i
        expected.append(jty.square().sum(1).mean().sqrt())
    expected = torch.stack(expected)
    assert torch.allclose(lengths, expected, rtol=1e-4)
    a = pl_mean.lerp(expected.mean(), decay)
    assert torch.allclose(penalty.detach(), (expected - a).square(), rtol=1e-4, atol=1e-8)


def test_adam_lazy_regularization_correction():
    param = torch.nn.Parameter(torch.zeros(3))
    opt = _adam([param], lr=0.002, interval=16)
    group = opt.param_groups[0]
    assert group["lr"] == pytest.approx(0.002 * 16 / 17)
    assert group["betas"] == pytest.approx((0.0, 0.99 ** (16 / 17)))
    assert group["eps"] == 1e-8
    plain = _adam([param], lr=0.002, interval=None).param_groups[0]
    assert plain["lr"] == 0.002 and plain["betas"] == (0.0, 0.99)


@pytest.mark.parametrize("rampup, cur_nimg, ema_nimg", [(None, 5000, 10_000), (0.05, 1000, 50)])
def test_ema_beta_follows_the_half_life(rampup, cur_nimg, ema_nimg):
    config = training_config("tiny", ema_kimg=10, ema_rampup=rampup, batch=32)
    if rampup is None:
        config = type(config).from_dict({**config.to_dict(), "ema_rampup": None})
    G, G_ema = tiny("G"), tiny("G")
    with torch.no_grad():
        for p in G_ema.parameters():
            p.add_(1.0)
    before = [p.clone() for p in G_ema.parameters()]
    _update_ema(G_ema, G, config, cur_nimg, 32)
    beta = 0.5 ** (32 / ema_nimg)
    for p_ema, p_old, p in zip(G_ema.parameters(), before, G.parameters()):
        assert torch.allclose(p_ema, p + beta * (p_old - p), rtol=1e-5, atol=1e-5)


def test_style_mixing_crossover_distribution():
    config = training_config("tiny", style_mixing_prob=0.9)
    G = tiny("G")  # num_ws = 6
    cutoffs = [draw_fakes(config, G, step, 0, 0, 2)[2] for step in range(3000)]
    counts = torch.bincount(torch.tensor(cutoffs), minlength=G.num_ws + 1).float()
    assert counts[0] == 0
    assert abs(counts[G.num_ws] / 3000 - 0.1) < 0.02  # no mixing 10% of the time
    uniform = counts[1:G.num_ws] / 3000
    assert torch.all((uniform - 0.9 / (G.num_ws - 1)).abs() < 0.03)  # uniform over [1, num_ws)


def test_draws_are_a_pure_function_of_their_position():
    config = training_config("tiny")
    G = tiny("G")
    a, b = draw_fakes(config, G, 7, 1, 2, 4), draw_fakes(config, G, 7, 1, 2, 4)
    assert torch.equal(a[0], b[0]) and a[2] == b[2]
    assert not torch.equal(a[0], draw_fakes(config, G, 8, 1, 2, 4)[0])
