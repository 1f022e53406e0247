import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def reference_fixture():
    """(G state dict, D state dict, io tensors, config) recorded from stylegan2-ada-pytorch."""
    root = FIXTURES / "reference-stylegan2"
    return (load_file(root / "G.safetensors"), load_file(root / "D.safetensors"),
            load_file(root / "io.safetensors"), json.loads((root / "config.json").read_text()))
