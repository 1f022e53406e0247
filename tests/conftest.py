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


@pytest.fixture(scope="session")
def inception_files(tmp_path_factory):
    """{'model': calibrated random InceptionV3, 'pytorch_fid': .pth, 'nvidia': TorchScript .pt}."""
    from feature_weights import calibrated_inception, save_nvidia_torchscript, save_pytorch_fid

    root = tmp_path_factory.mktemp("inception")
    model = calibrated_inception()
    files = {"model": model, "pytorch_fid": root / "pt_inception.pth", "nvidia": root / "inception.pt"}
    save_pytorch_fid(model, files["pytorch_fid"])
    save_nvidia_torchscript(model, files["nvidia"])
    return files


@pytest.fixture(scope="session")
def vgg_file(tmp_path_factory):
    """Random VGG16 weights in torchvision's layout (553 MB, written once per session)."""
    from feature_weights import save_vgg16

    path = tmp_path_factory.mktemp("vgg") / "my-vgg16.pth"
    save_vgg16(path)
    return path
