"""The FID Inception-v3 in our code: architecture, TF-1 resize, both published weight layouts (with
files the tests write), and clear errors for bad weight files."""

import pytest
import torch
import torch.nn.functional as F

from styleforge.errors import StyleforgeError
from styleforge.perception import InceptionV3, load_inception
from styleforge.perception.inception import NVIDIA_NAMES, tf_resize


def test_architecture_matches_the_fid_inception():
    model = InceptionV3()
    # torchvision's Inception-v3 without the aux head has 23,834,568 parameters with 1000 classes;
    # 1008 classes add 8 × 2049.
    assert sum(p.numel() for p in model.parameters()) == 23_834_568 + 8 * 2049
    assert sum(name.endswith("conv.weight") for name in model.state_dict()) == 94
    # Every NVIDIA tensor has exactly one place in ours, and every tensor of ours but the BN scales
    # and counters is covered.
    assert len(set(NVIDIA_NAMES.values())) == len(NVIDIA_NAMES) == 94 * 4 + 2
    rest = set(model.state_dict()) - set(NVIDIA_NAMES.values())
    assert all(k.endswith(("bn.weight", "bn.num_batches_tracked")) for k in rest)


def test_avg_pools_exclude_padding_and_mixed_7c_takes_the_max(inception_files):
    model = inception_files["model"]
    x = torch.rand(1, 2048, 8, 8)
    # Changing the pool of Mixed_7b / 7c changes the block output: both choices are live.
    block = model.Mixed_7c
    with torch.no_grad():
        as_built = block(x)
        block.max_pool = False
        swapped = block(x)
        block.max_pool = True
    assert not torch.allclose(as_built, swapped)
    ones = torch.ones(1, 1, 5, 5)
    from styleforge.perception.inception import _avg_pool

    assert torch.allclose(_avg_pool(ones), ones)  # count_include_pad=True would give 4/9 at corners


def reference_resize(x: torch.Tensor, size: int = 299) -> torch.Tensor:
    """The reference's emulation of tf.image.resize_bilinear: affine grid + grid_sample."""
    n, c, h, w = x.shape
    theta = torch.eye(2, 3, dtype=torch.float64)
    theta[0, 2] += 1 / w - 1 / size
    theta[1, 2] += 1 / h - 1 / size
    grid = F.affine_grid(theta[None].repeat(n, 1, 1), [n, c, size, size], align_corners=False)
    return F.grid_sample(x.double(), grid, mode="bilinear", padding_mode="border", align_corners=False)


@pytest.mark.parametrize("size", [16, 32, 256, 299, 512])
def test_tf_resize_matches_the_reference_emulation(size):
    x = torch.rand(2, 3, size, size) * 255
    assert torch.allclose(tf_resize(x).double(), reference_resize(x), atol=1e-3)


def test_tf_resize_samples_at_i_times_scale_without_half_pixel_centres():
    ramp = torch.arange(16.0).view(1, 1, 1, 16).expand(1, 1, 16, 16)
    out = tf_resize(ramp)[0, 0, 0]
    expected = (torch.arange(299.0) * 16 / 299).clamp(max=15)
    assert torch.allclose(out, expected, atol=1e-4)
    same = torch.rand(1, 3, 299, 299)
    assert torch.equal(tf_resize(same), same)


def test_both_published_layouts_load_to_the_same_network(inception_files):
    ours = inception_files["model"]
    x = torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8)
    with torch.no_grad():
        expected = ours.features(x)
        for layout in ("pytorch_fid", "nvidia"):
            model = load_inception(inception_files[layout])
            features = model.features(x)
            assert features.shape == (3, 2048)
            assert torch.allclose(features, expected, atol=1e-5), layout
    assert expected.std() > 1e-2 and (expected[0] - expected[1]).abs().max() > 1e-3  # not a constant
    logits = model.logits(expected, bias=False)
    assert logits.shape == (3, 1008)
    assert torch.allclose(model.logits(expected) - logits, model.fc.bias.expand(3, -1), atol=1e-5)


def test_grayscale_and_any_size_inputs(inception_files):
    model = load_inception(inception_files["pytorch_fid"])
    with torch.no_grad():
        gray = torch.randint(0, 256, (2, 1, 16, 16), dtype=torch.uint8)
        assert torch.allclose(model.features(gray), model.features(gray.repeat(1, 3, 1, 1)))
        assert model.features(torch.rand(1, 3, 64, 64) * 255).shape == (1, 2048)


def test_inception_weight_errors_are_clear(tmp_path, inception_files, vgg_file, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("STYLEFORGE_WEIGHTS", raising=False)
    with pytest.raises(StyleforgeError, match="inception-2015-12-05.pt .*pt_inception-2015-12-05-6726825d.pth"):
        load_inception(download=False)
    with pytest.raises(StyleforgeError, match="no such file"):
        load_inception(tmp_path / "missing.pt")
    for layout in ("pytorch_fid", "nvidia"):
        truncated = tmp_path / f"truncated-{layout}"
        truncated.write_bytes(inception_files[layout].read_bytes()[:4000])
        with pytest.raises(StyleforgeError, match="not a readable weights file"):
            load_inception(truncated)
    with pytest.raises(StyleforgeError, match="not an Inception-v3 FID weights file"):
        load_inception(vgg_file)
    (tmp_path / "inception-2015-12-05.pkl").write_bytes(b"\x80\x04N.")  # stylegan3's pickle: never unpickled
    with pytest.raises(StyleforgeError, match="pickled networks are not read.*inception-2015-12-05.pt"):
        load_inception(tmp_path / "inception-2015-12-05.pkl")
    state = torch.load(inception_files["pytorch_fid"], weights_only=True)
    state["fc.weight"], state["fc.bias"] = state["fc.weight"][:1000], state["fc.bias"][:1000]
    torch.save(state, tmp_path / "imagenet1000.pth")  # torchvision's classifier, not the TF graph's
    with pytest.raises(StyleforgeError, match="do not fit.*fc.weight"):
        load_inception(tmp_path / "imagenet1000.pth")
    # Found by name in $STYLEFORGE_WEIGHTS; the pytorch-fid name carries a checksum that must match.
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "inception-2015-12-05.pt").write_bytes(inception_files["nvidia"].read_bytes())
    monkeypatch.setenv("STYLEFORGE_WEIGHTS", str(folder))
    assert load_inception(download=False).features(torch.zeros(1, 3, 16, 16)).shape == (1, 2048)
    (folder / "inception-2015-12-05.pt").unlink()
    (folder / "pt_inception-2015-12-05-6726825d.pth").write_bytes(inception_files["pytorch_fid"].read_bytes())
    with pytest.raises(StyleforgeError, match="checksum 6726825d"):
        load_inception(download=False)
