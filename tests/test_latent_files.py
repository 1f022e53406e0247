"""The one latent file (z / W / W+ / S, noise maps, labels, model sizes and fingerprint) and "saved =
shown": a saved projection re-renders as proj.png through generate, edit apply and the explorer; S
latents saved by edit apply or downloaded from the explorer render through generate as shown."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

import styleforge as sf
from styleforge.cli import main
from styleforge.latent_files import (check_latents, latent_for, latents_bytes, latents_from_bytes, read_latents,
                                     save_latents)
from styleforge.latents import space_sizes
from styleforge.media import save_image, to_uint8
from styleforge.web import Explorer

from helpers import tiny


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    """A model whose noise strengths are 0.3 (so noise maps matter) and a target image, on disk."""
    folder = tmp_path_factory.mktemp("noisy")
    G = tiny()
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(0.3)
    model = sf.save(G, folder / "noisy.safetensors")
    target = folder / "target.png"
    save_image(to_uint8(sf.render(G, seeds=[5]))[0], target)
    return G, model, target, folder


def _pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path))


def _only_png(folder) -> np.ndarray:
    (path,) = folder.glob("*.png")
    return _pixels(path)


@pytest.mark.parametrize("space", ["z", "w", "ws", "s"])
def test_every_space_round_trips_with_noise_and_labels(tmp_path, space):
    G = tiny(c_dim=3)
    g = torch.Generator().manual_seed(1)
    sizes = space_sizes(G)
    shape = {"z": (4, G.z_dim), "w": (4, G.w_dim), "ws": (4, G.num_ws, G.w_dim), "s": (4, sizes.s_dim)}[space]
    codes = torch.randn(shape, generator=g)
    noise = {"b8.conv0": torch.randn(4, 1, 8, 8, generator=g)}
    labels = torch.eye(3)[[0, 1, 2, 0]]
    latent = latent_for(G, space, codes, noise=noise, labels=labels, info={"why": "test"})
    back = read_latents(save_latents(tmp_path / "l.safetensors", latent))
    assert back.space == space and torch.equal(back.latent, codes) and torch.equal(back.labels, labels)
    assert torch.equal(back.noise["b8.conv0"], noise["b8.conv0"]) and back.info == {"why": "test"}
    assert back.dims == latent.dims and back.model == latent.model
    from_bytes = latents_from_bytes(latents_bytes(latent))
    assert torch.equal(from_bytes.latent, codes) and from_bytes.model == latent.model


def test_latents_of_another_model_are_refused_in_one_line(tmp_path, capsys):
    G = tiny()
    path = save_latents(tmp_path / "l.safetensors", latent_for(G, "ws", torch.zeros(1, G.num_ws, G.w_dim)))
    other = tiny(w_dim=16)
    with pytest.raises(sf.StyleforgeError, match=r"holds W\+ codes of shape \[1, 6, 32\]; this model takes "
                                                 r"\[N, 6, 16\] \(the file was written for a model with"):
        check_latents(read_latents(path), other, str(path))
    model = sf.save(other, tmp_path / "other.safetensors")
    assert main(["generate", "--model", str(model), "--projected-w", str(path), "--outdir", str(tmp_path)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_untagged_latents_of_earlier_versions_still_read(tmp_path):
    from safetensors.torch import save_file

    G = tiny()
    save_file({"s": torch.zeros(2, space_sizes(G).s_dim)}, str(tmp_path / "old.safetensors"))
    latent = read_latents(tmp_path / "old.safetensors")
    assert latent.space == "s" and latent.latent.shape == (2, space_sizes(G).s_dim) and not latent.noise
    check_latents(latent, G, "old")


def _one_cell(figure: np.ndarray, shape: tuple) -> np.ndarray:
    """The image of a one-cell `edit apply` figure (below and right of its labels, cells ≥ 64 px)."""
    scale = max(1, 64 // shape[0])
    return figure[-shape[0] * scale:, -shape[1] * scale:][::scale, ::scale]


def test_a_saved_projection_renders_as_proj_png_everywhere(noisy, tmp_path):
    G, model, target, _ = noisy
    out = tmp_path / "p"
    assert main(["project", "--model", str(model), "--target", str(target), "--outdir", str(out), "--steps", "20",
                 "--distance", "pixel", "--w-avg-samples", "100"]) == 0
    shown = _pixels(out / "proj.png")
    saved = read_latents(out / "projected.safetensors")
    assert saved.space == "ws" and len(saved.noise) == len([n for n in G.state_dict() if n.endswith("noise_const")])

    assert main(["generate", "--model", str(model), "--projected-w", str(out / "projected.safetensors"),
                 "--outdir", str(tmp_path / "g")]) == 0
    assert np.array_equal(_only_png(tmp_path / "g"), shown)

    assert main(["edit", "sefa", "--model", str(model), "--out", str(tmp_path / "sefa.safetensors")]) == 0
    assert main(["edit", "apply", "--model", str(model), "--edit", f"{tmp_path / 'sefa.safetensors'}:0=0",
                 "--projected-w", str(out / "projected.safetensors"), "--out", str(tmp_path / "e.png"),
                 "--save-latents", str(tmp_path / "edited.safetensors")]) == 0
    assert np.array_equal(_one_cell(_pixels(tmp_path / "e.png"), shown.shape), shown)
    assert main(["generate", "--model", str(model), "--projected-w", str(tmp_path / "edited.safetensors"),
                 "--outdir", str(tmp_path / "g2")]) == 0
    assert np.array_equal(_only_png(tmp_path / "g2"), shown)

    explorer = Explorer(sf.load(model))
    try:
        (job_id,) = explorer.add_latents(saved, "projected.safetensors")
        view = explorer.view_from({"projection": job_id, "psi": "0.05"})  # ψ does not apply to a projection
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(explorer.image(view)))), shown)
    finally:
        explorer.close()

    # Without the saved maps (the reference's npz, or another noise mode) the image differs: the test can fail.
    assert main(["generate", "--model", str(model), "--projected-w", str(out / "projected_w.npz"),
                 "--outdir", str(tmp_path / "g3")]) == 0
    assert not np.array_equal(_only_png(tmp_path / "g3"), shown)


def test_s_latents_from_edit_apply_and_the_explorer_render_as_shown(noisy, tmp_path):
    G, model, _, _ = noisy
    from styleforge.edit import channel_edit, save_edits

    save_edits([channel_edit(G, 7, 1.0, name="c7")], tmp_path / "c7.safetensors")
    assert main(["edit", "apply", "--model", str(model), "--edit", f"{tmp_path / 'c7.safetensors'}:c7=2",
                 "--seeds", "3", "--out", str(tmp_path / "e.png"),
                 "--save-latents", str(tmp_path / "s.safetensors")]) == 0
    saved = read_latents(tmp_path / "s.safetensors")
    assert saved.space == "s"
    figure = _pixels(tmp_path / "e.png")
    assert main(["generate", "--model", str(model), "--projected-w", str(tmp_path / "s.safetensors"),
                 "--outdir", str(tmp_path / "g")]) == 0
    rendered = _only_png(tmp_path / "g")
    assert np.array_equal(_one_cell(figure, rendered.shape), rendered)

    explorer = Explorer(sf.load(model), [channel_edit(G, 7, 1.0, name="c7")])
    try:
        view = explorer.view_from({"seed": "11", "psi": "0.7", "edits": "c7:3"})
        shown = np.asarray(Image.open(io.BytesIO(explorer.image(view))))
        download = tmp_path / "download.safetensors"
        download.write_bytes(explorer.latent(view, "s"))
    finally:
        explorer.close()
    assert read_latents(download).space == "s"
    assert main(["generate", "--model", str(model), "--projected-w", str(download),
                 "--outdir", str(tmp_path / "g4")]) == 0
    assert np.array_equal(_only_png(tmp_path / "g4"), shown)
