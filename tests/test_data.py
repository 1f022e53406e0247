"""Datasets (folders, zips, labels, errors), toyfaces and the dataset tool."""

import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from styleforge.cli import main
from styleforge.data import ImageDataset, ToyFaces, open_dataset
from styleforge.data.tool import convert_dataset
from styleforge.data.toyfaces import FACTOR_NAMES
from styleforge.errors import StyleforgeError


def _images(folder, size=16, count=3, mode="RGB", prefix=""):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.new(mode, (size, size) if isinstance(size, int) else size, (i * 40,) * len(mode)).save(
            folder / f"{prefix}{i}.png")


def test_toyfaces_is_deterministic_with_factors():
    a, b = ToyFaces(32, seed=1), ToyFaces(32, seed=1)
    assert np.array_equal(a.image(5), b.image(5)) and a.image(5).shape == (3, 32, 32)
    assert not np.array_equal(a.image(5), a.image(6))
    factors = a.factor_array([0, 1, 2])
    assert factors.shape == (3, len(FACTOR_NAMES)) and ((factors >= 0) & (factors <= 1)).all()
    with pytest.raises(StyleforgeError):
        ToyFaces(48)


def test_toyfaces_factors_show_in_the_image():
    toy = ToyFaces(64)
    from styleforge.data.toyfaces import render

    base = toy.factors(0)
    with_glasses = render({**base, "glasses": 1.0}, 64)
    without = render({**base, "glasses": 0.0}, 64)
    assert np.abs(with_glasses - without).mean() > 0.005


def test_toyfaces_has_correlated_factors():
    f = ToyFaces(16).factor_array(range(2000))
    hair_length, hair_hue = f[:, FACTOR_NAMES.index("hair_length")], f[:, FACTOR_NAMES.index("hair_hue")]
    assert np.corrcoef(hair_length, hair_hue)[0, 1] < -0.3


def test_folder_and_zip_datasets(tmp_path):
    _images(tmp_path / "imgs" / "a", count=2)
    _images(tmp_path / "imgs" / "b", count=2, prefix="x")
    ds = ImageDataset(tmp_path / "imgs")
    assert len(ds) == 4 and ds.resolution == 16 and ds.names[0] == "a/0.png"
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as z:
        for name in ds.names:
            z.write(tmp_path / "imgs" / name, name)
    zipped = ImageDataset(tmp_path / "d.zip", use_labels=True)  # labels from sub-folders
    assert zipped.label_dim == 2 and np.array_equal(zipped.image(3), ds.image(3))
    assert zipped.label(0).tolist() == [1, 0] and zipped.label(3).tolist() == [0, 1]


def test_dataset_fingerprints_follow_the_content(tmp_path):
    """The key of cached real statistics: same images → same hash wherever they live; one changed
    pixel or name → another hash (folder: the bytes; zip: each member's CRC-32 and size)."""
    _images(tmp_path / "a", count=3)
    _images(tmp_path / "b", count=3)
    fingerprint = lambda path: ImageDataset(path).fingerprint()  # noqa: E731
    assert fingerprint(tmp_path / "a") == fingerprint(tmp_path / "b")
    Image.new("RGB", (16, 16), (0, 0, 1)).save(tmp_path / "b" / "0.png")  # one pixel value differs
    assert fingerprint(tmp_path / "a") != fingerprint(tmp_path / "b")
    before = fingerprint(tmp_path / "a")
    (tmp_path / "a" / "2.png").rename(tmp_path / "a" / "3.png")
    assert fingerprint(tmp_path / "a") != before

    def zipped(name, folder):
        with zipfile.ZipFile(tmp_path / name, "w") as z:
            for member in ("0.png", "1.png"):
                z.write(tmp_path / folder / member, member)
        return fingerprint(tmp_path / name)

    assert zipped("a1.zip", "a") == zipped("a2.zip", "a") != zipped("b.zip", "b")
    assert ToyFaces(16, seed=1).fingerprint() == ToyFaces(16, seed=1).fingerprint()
    assert ToyFaces(16, seed=1).fingerprint() != ToyFaces(16, seed=2).fingerprint()


def test_dataset_json_labels(tmp_path):
    _images(tmp_path / "d", count=3)
    (tmp_path / "d" / "dataset.json").write_text(json.dumps({"labels": [["0.png", 0], ["1.png", 2], ["2.png", 1]]}))
    ds = ImageDataset(tmp_path / "d", use_labels=True)
    assert ds.label_dim == 3 and ds.label(1).tolist() == [0, 0, 1]
    (tmp_path / "d" / "dataset.json").write_text(json.dumps({"labels": [["0.png", 0], ["9.png", 1]]}))
    with pytest.raises(StyleforgeError, match="no label for 1.png"):
        ImageDataset(tmp_path / "d", use_labels=True)


@pytest.mark.parametrize("setup, message", [
    ("empty", "contains no images"),
    ("mixed", "all images must have one size"),
    ("nonsquare", "styleforge dataset"),
    ("channels", "channel"),
    ("truncated", "broken.png: unreadable or truncated"),
    ("nolabels", "has no labels"),
])
def test_dataset_errors_name_the_problem(tmp_path, setup, message):
    folder = tmp_path / "d"
    folder.mkdir()
    if setup == "mixed":
        _images(folder, count=2)
        _images(folder, size=32, count=1, prefix="big")
    elif setup == "nonsquare":
        _images(folder, size=(16, 8), count=1)
    elif setup == "channels":
        _images(folder, count=1)
        _images(folder, count=1, mode="L", prefix="gray")
    elif setup == "truncated":
        _images(folder, count=1)
        Image.new("RGB", (16, 16), (9, 9, 9)).save(folder / "broken.png")
        data = (folder / "broken.png").read_bytes()
        (folder / "broken.png").write_bytes(data[: len(data) // 2])
    elif setup == "nolabels":
        _images(folder, count=2)
    with pytest.raises(StyleforgeError, match=message):
        ImageDataset(folder, use_labels=(setup == "nolabels"))


def test_dataset_tool_round_trip_skips_broken_files(tmp_path):
    _images(tmp_path / "src" / "cats", size=(40, 30), count=2)
    _images(tmp_path / "src" / "dogs", size=(20, 50), count=2)
    (tmp_path / "src" / "dogs" / "junk.png").write_bytes(b"not an image")
    summary = convert_dataset(str(tmp_path / "src"), str(tmp_path / "out.zip"), 16, "center-crop")
    assert summary.written == 4 and [n for n, _ in summary.skipped] == ["dogs/junk.png"]
    ds = open_dataset(str(tmp_path / "out.zip"), use_labels=True)
    assert len(ds) == 4 and ds.resolution == 16 and ds.label_dim == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files


def test_dataset_tool_transforms_and_toyfaces_cli(tmp_path, capsys):
    _images(tmp_path / "src", size=(40, 20), count=1)
    for transform in ("center-crop", "center-crop-wide", "pad"):
        convert_dataset(str(tmp_path / "src"), str(tmp_path / f"{transform}.zip"), 8, transform, "box", 1)
        ds = ImageDataset(tmp_path / f"{transform}.zip")
        assert (ds.resolution, ds.channels) == (8, 1)
    assert main(["dataset", "--source", "toyfaces", "--count", "5", "--dest", str(tmp_path / "toy.zip"),
                 "--resolution", "32"]) == 0
    assert len(ImageDataset(tmp_path / "toy.zip")) == 5
    assert "wrote" in capsys.readouterr().out
    assert main(["dataset", "--source", str(tmp_path / "nope"), "--dest", str(tmp_path / "x.zip"),
                 "--resolution", "32"]) == 2
