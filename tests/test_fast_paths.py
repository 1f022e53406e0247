"""Every FIR path (depthwise conv, shifted multiply-adds, folded into the convolution) computes the same
function, through first and second derivatives; the folded/shift graphs launch no depthwise kernel."""

import itertools
import os
import subprocess
import sys

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode  # torch's own (private) dispatch hook

import styleforge as sf
from styleforge.nn import conv2d_resample, downsample2d, fastpath, setup_filter, upfirdn2d, upsample2d
from styleforge.nn.conv_resample import fold_fir

PATHS = ("shift", "fold")


class ConvCounter(TorchDispatchMode):
    """Counts convolutions, and those that are depthwise (groups = input channels > 1)."""

    def __init__(self):
        super().__init__()
        self.total = self.depthwise = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func._overloadpacket in (torch.ops.aten.convolution, torch.ops.aten.convolution_backward):
            self.total += 1
            weight = args[1] if func._overloadpacket == torch.ops.aten.convolution else args[2]
            if weight.shape[1] == 1 and weight.shape[0] > 1:
                self.depthwise += 1
        return func(*args, **kwargs)


CASES = [case for case in itertools.product([(1, 3, 3, 1), (1, 2, 3, 4), (1, 2, 1)], [1, 3], [1, 2], [1, 2],
                                            [0, 1], [True, False], [1, 2]) if not (case[2] > 1 and case[3] > 1)]


@pytest.mark.parametrize("path", PATHS)
def test_conv2d_resample_paths_equal_the_depthwise_path(path):
    """Up / down / plain, 1×1 and 3×3, odd / even / asymmetric filters, flipped or not, grouped: float64."""
    torch.manual_seed(0)
    for taps, k, up, down, padding, flip, groups in CASES:
        f = setup_filter(taps).double()
        x = torch.randn(2, 4, 9, 9, dtype=torch.float64)
        w = torch.randn(6, 4 // groups, k, k, dtype=torch.float64)
        args = dict(up=up, down=down, padding=padding, groups=groups, flip_weight=flip)
        with fastpath.use("conv"):
            expected = conv2d_resample(x, w, f, **args)
        with fastpath.use(path):
            out = conv2d_resample(x, w, f, **args)
        assert out.shape == expected.shape
        assert torch.allclose(out, expected, atol=1e-10), (taps, k, up, down, padding, flip, groups)


def test_shift_fir_equals_depthwise_fir_for_short_and_long_filters():
    torch.manual_seed(0)
    for taps in [(1, 3, 3, 1), (1, 2, 3, 4), (1, 2, 1), tuple(range(1, 10))]:
        f = setup_filter(taps).double()
        x = torch.randn(2, 3, 10, 10, dtype=torch.float64)
        for op in (lambda x: upsample2d(x, f), lambda x: downsample2d(x, f),
                   lambda x: upfirdn2d(x, f, up=2, down=2, padding=(1, 2, 0, 3), gain=3.0)):
            with fastpath.use("conv"):
                expected = op(x)
            with fastpath.use("shift"):
                assert torch.allclose(op(x), expected, atol=1e-12)


def test_folded_kernel_is_the_full_convolution_of_kernel_and_filter():
    """fold_fir(w, taps) against torch's own full convolution (conv_transpose2d of w with the 2-D filter)."""
    w, taps = torch.randn(5, 3, 3, 3, dtype=torch.float64), torch.tensor([1.0, 2, 5, 1], dtype=torch.float64)
    expected = torch.nn.functional.conv_transpose2d(w.reshape(-1, 1, 3, 3), torch.outer(taps, taps)[None, None] * 4)
    assert torch.allclose(fold_fir(w, taps, gain=4), expected.reshape(5, 3, 6, 6), atol=1e-12)


def _tiny_networks():
    G = sf.build("tiny", "G", img_resolution=16, architecture="resnet")
    D = sf.build("tiny", "D", img_resolution=16)
    return G.train(), D.train()


def _forward_and_gradients(G, D, z):
    """Image, logits, parameter gradients of a G+D loss, and R1's gradient of a gradient."""
    img = G(z, None)
    img.retain_grad()
    logits = D(img)
    grads = torch.autograd.grad(logits.sum() + img.square().mean(), list(G.parameters()) + list(D.parameters()),
                                allow_unused=True)
    real = torch.randn(2, 3, 16, 16, requires_grad=True)
    (r1_grad,) = torch.autograd.grad(D(real).sum(), real, create_graph=True)
    r1 = torch.autograd.grad(r1_grad.square().sum(), list(D.parameters()), allow_unused=True)
    return [img, logits] + [g for g in grads + r1 if g is not None]


@pytest.mark.parametrize("path", PATHS)
def test_networks_match_through_double_backward_on_every_path(path):
    G, D = _tiny_networks()
    z = torch.randn(2, G.z_dim)
    torch.manual_seed(1)
    with fastpath.use("conv"):
        expected = _forward_and_gradients(G, D, z)
    torch.manual_seed(1)
    with fastpath.use(path):
        got = _forward_and_gradients(G, D, z)
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-4), (a - b).abs().max()


@pytest.mark.parametrize("path,depthwise", [("conv", True), ("shift", False), ("fold", False)])
def test_fold_and_shift_graphs_launch_no_depthwise_convolution(path, depthwise):
    G, D = _tiny_networks()
    counter = ConvCounter()
    with fastpath.use(path), counter:
        D(G(torch.randn(2, G.z_dim), None)).sum().backward()
    assert (counter.depthwise > 0) == depthwise
    if path == "fold":  # the resampling convs absorbed their filters: fewer convolutions than without
        with fastpath.use("conv"), ConvCounter() as plain:
            D(G(torch.randn(2, G.z_dim), None)).sum().backward()
        assert counter.total < plain.total


def test_policy_names_and_the_auto_choice_per_device():
    assert fastpath.policy("auto").resolve(torch.device("cpu")) == fastpath.FastPath("conv", False)
    assert fastpath.policy("auto").resolve(torch.device("cuda")) == fastpath.FastPath("shift", True)
    assert fastpath.policy("fold").resolve(torch.device("cpu")) == fastpath.FastPath("shift", True)
    before = fastpath.current(torch.device("cpu"))
    with fastpath.use("shift"):
        assert fastpath.current(torch.device("cpu")).fir == "shift"
    assert fastpath.current(torch.device("cpu")) == before
    with pytest.raises(ValueError, match="one of auto, conv, shift, fold"):
        fastpath.policy("fast")


def test_environment_variable_sets_the_policy_and_a_bad_value_is_one_line():
    code = "from styleforge.nn import fastpath; import torch; print(fastpath.current(torch.device('cpu')))"
    env = {**os.environ, "STYLEFORGE_RESAMPLE": "fold"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert "fir='shift', fold=True" in out.stdout
    env["STYLEFORGE_RESAMPLE"] = "fastest"
    bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "STYLEFORGE_RESAMPLE must be one of" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_compiled_generator_on_the_shift_path_matches_eager():
    """torch.compile fuses the shifted multiply-adds (inductor's C++ backend on CPU)."""
    pytest.importorskip("torch._inductor")
    G = sf.build("tiny", "G", img_resolution=16).eval()
    ws = G.mapping(torch.randn(2, G.z_dim), None)
    with fastpath.use("shift"), torch.no_grad():
        expected = G.synthesis(ws)
        try:
            compiled = torch.compile(G.synthesis)(ws)
        except Exception as error:  # no C++ compiler on this machine: say so rather than pass
            pytest.skip(f"torch.compile is not available here: {type(error).__name__}")
    torch._dynamo.reset()
    assert torch.allclose(compiled, expected, atol=1e-5)


def test_side_by_side_benchmark_refuses_a_folder_that_is_not_a_reference_tree(tmp_path):
    script = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "side_by_side.py")
    done = subprocess.run([sys.executable, script, "--reference-src", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode != 0 and "is not a work tree of NVlabs/stylegan2-ada-pytorch" in done.stderr
    assert "Traceback" not in done.stderr
