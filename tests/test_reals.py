"""Reading real images ahead and in parallel changes nothing about which images a step gets."""

import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from styleforge.data import open_dataset
from styleforge.errors import StyleforgeError
from styleforge.train import training_config
from styleforge.train.loop import reading_workers
from styleforge.train.reals import RealImages


def _zip_dataset(path, count=23):
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(count):
            image = Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
            with archive.open(f"img{i:03d}.png", "w") as f:
                image.save(f, format="PNG")
    return open_dataset(str(path))


@pytest.mark.parametrize("source", ["toyfaces", "zip"])
def test_read_ahead_and_workers_give_the_synchronous_batches(tmp_path, source):
    dataset = open_dataset("toyfaces", 16, max_size=40) if source == "toyfaces" else _zip_dataset(tmp_path / "d.zip")
    readers = [RealImages(dataset, 3, True, prefetch=False), RealImages(dataset, 3, True),
               RealImages(dataset, 3, True, workers=3), RealImages(dataset, 3, True, workers=8)]
    for start in range(0, 7 * 6, 6):  # crosses epochs of the 23-image zip
        batches = [reader.batch(start, 6, "cpu") for reader in readers]
        for images, labels in batches[1:]:
            assert torch.equal(images, batches[0][0]) and torch.equal(labels, batches[0][1])
    out_of_order = readers[2].batch(100, 5, "cpu")  # a jump (resume) reads directly
    assert torch.equal(out_of_order[0], readers[0].batch(100, 5, "cpu")[0])


def test_worker_count_option():
    config = training_config("tiny", workers=3)
    assert reading_workers(config, torch.device("cpu")) == 3
    assert reading_workers(training_config("tiny"), torch.device("cpu")) == 1
    assert 1 <= reading_workers(training_config("tiny"), torch.device("cuda")) <= 8
    with pytest.raises(StyleforgeError, match="--workers must be >= 0"):
        training_config("tiny", workers=-1).validate()
