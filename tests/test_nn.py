"""Building blocks against direct formulas: FIR resampling, modulated conv, mbstd, equalized lr."""

import math

import pytest
import torch
import torch.nn.functional as F

from styleforge.nn import (FullyConnectedLayer, MinibatchStdLayer, bias_act, downsample2d,
                           modulated_conv2d, setup_filter, upsample2d)


def _outer_filter():
    f = torch.tensor([1.0, 3, 3, 1])
    f2 = torch.outer(f, f)
    return f2 / f2.sum()


def test_upsample_equals_zero_insertion_and_2d_fir():
    x = torch.randn(2, 3, 5, 5)
    up = torch.zeros(2, 3, 10, 10)
    up[:, :, ::2, ::2] = x
    kernel = (_outer_filter() * 4).repeat(3, 1, 1, 1)
    expected = F.conv2d(F.pad(up, [2, 1, 2, 1]), kernel, groups=3)
    assert torch.allclose(upsample2d(x, setup_filter()), expected, atol=1e-6)


def test_downsample_equals_2d_fir_then_decimation():
    x = torch.randn(2, 3, 8, 8)
    kernel = _outer_filter().repeat(3, 1, 1, 1)
    expected = F.conv2d(F.pad(x, [1, 1, 1, 1]), kernel, groups=3)[:, :, ::2, ::2]
    assert torch.allclose(downsample2d(x, setup_filter()), expected, atol=1e-6)


def test_fir_preserves_a_constant_image():
    x = torch.ones(1, 1, 8, 8)
    assert torch.allclose(upsample2d(x, setup_filter())[:, :, 2:-2, 2:-2], torch.ones(1, 1, 12, 12))


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("with_noise", [False, True])
def test_modulated_conv_equals_per_sample_demodulated_conv(fused, with_noise):
    x, weight, styles = torch.randn(3, 4, 6, 6), torch.randn(5, 4, 3, 3), torch.randn(3, 4)
    noise = torch.randn(1, 1, 6, 6) if with_noise else None
    out = modulated_conv2d(x, weight, styles, noise=noise, padding=1, fused=fused)
    for i in range(3):
        w = weight * styles[i].reshape(1, -1, 1, 1)  # Eq. 1
        w = w / (w.square().sum(dim=[1, 2, 3], keepdim=True) + 1e-8).sqrt()  # Eq. 3 (from the 5-D weight)
        expected = F.conv2d(x[i:i + 1], w, padding=1) + (noise if with_noise else 0)
        assert torch.allclose(out[i:i + 1], expected, atol=1e-5)


def test_demodulation_gives_unit_output_variance_for_unit_input():
    torch.manual_seed(1)
    x = torch.randn(8, 64, 16, 16)
    out = modulated_conv2d(x, torch.randn(64, 64, 3, 3), torch.randn(8, 64) * 3, padding=1)
    assert abs(out[:, :, 1:-1, 1:-1].std().item() - 1) < 0.05


def test_minibatch_stddev_groups_samples_m_plus_k_times_n_over_g():
    x = torch.randn(8, 2, 3, 3)
    y = MinibatchStdLayer(group_size=4)(x)
    assert y.shape == (8, 3, 3, 3)
    members = x[[0, 2, 4, 6]]  # group of sample 0 when N=8, G=4
    expected = (members.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
    assert torch.allclose(y[0, 2], expected.expand(3, 3), atol=1e-6)


def test_equalized_linear_scales_weights_at_run_time():
    layer = FullyConnectedLayer(16, 8, lr_multiplier=0.01, bias_init=0.5)
    x = torch.randn(4, 16)
    expected = x @ (layer.weight * 0.01 / 4).t() + layer.bias * 0.01
    assert torch.allclose(layer(x), expected, atol=1e-6)
    assert layer.weight.std().item() > 10  # stored as N(0, 1/lr²)


def test_bias_act_gain_and_clamp():
    x = torch.tensor([[-1.0, 2.0, 300.0]]).reshape(1, 3, 1, 1)
    y = bias_act(x, torch.zeros(3), act="lrelu", clamp=256)
    assert torch.allclose(y.flatten(), torch.tensor([-0.2 * math.sqrt(2), 2 * math.sqrt(2), 256.0]))
