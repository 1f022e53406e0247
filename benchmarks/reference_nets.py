"""The reference networks and their training step, imported from a work tree the user provides
(`--reference-src DIR`: a checkout of NVlabs/stylegan2-ada-pytorch or NVlabs/stylegan3). Nothing of
it is copied into this repository. The reference's step is driven the way its own training_loop.py
drives it: phases Gmain, Greg (every 4), Dmain, Dreg (every 16) through its StyleGAN2Loss, Adam with
the lazy-regularization ratio, nan_to_num on the gradients, then the EMA update. Its networks get our
networks' constructor arguments and weights (styleforge.checkpoint.to_reference), so both sides run
the same model.
"""

import copy
import importlib
import inspect
import sys
from pathlib import Path

import torch

from styleforge.checkpoint import to_reference


class ReferenceUnavailable(RuntimeError):
    """The reference work tree is missing, incomplete, or its imports fail."""


def import_reference(src: str):
    """(networks module, loss module) of the reference work tree at `src`."""
    root = Path(src).expanduser().resolve()
    if not (root / "training").is_dir() or not (root / "torch_utils").is_dir():
        raise ReferenceUnavailable(f"{root} is not a work tree of NVlabs/stylegan2-ada-pytorch or "
                                   "NVlabs/stylegan3 (no training/ and torch_utils/ folders)")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        try:
            networks = importlib.import_module("training.networks_stylegan2")  # stylegan3
        except ModuleNotFoundError:
            networks = importlib.import_module("training.networks")  # stylegan2-ada-pytorch
        loss = importlib.import_module("training.loss")
    except ImportError as error:  # e.g. its dnnlib needs `requests`
        raise ReferenceUnavailable(f"importing the reference from {root} failed: {error} "
                                   "(install the reference's own requirements)") from error
    return networks, loss


def reference_network(networks, ours, num_fp16_res: int | None = None):
    """The reference's G or D with our network's constructor arguments and weights."""
    state, kwargs = to_reference(ours)
    kwargs = copy.deepcopy(kwargs)
    is_generator = "z_dim" in kwargs
    if num_fp16_res is not None:
        (kwargs["synthesis_kwargs"] if is_generator else kwargs)["num_fp16_res"] = num_fp16_res
    cls = networks.Generator if is_generator else networks.Discriminator
    if is_generator and networks.__name__.endswith("networks_stylegan2"):
        kwargs.update(kwargs.pop("synthesis_kwargs"))  # stylegan3's networks_stylegan2 takes them flat
    network = cls(**kwargs)
    network.load_state_dict(state)
    return network


class ReferenceTrainingStep:
    """One optimizer step of the reference: the phase loop of its training_loop.py."""

    def __init__(self, networks, loss_module, G, D, batch: int, lr: float = 0.0025, gamma: float = 1.0,
                 pl_weight: float = 2.0, style_mixing: float = 0.9, device: str = "cpu"):
        self.G, self.D, self.batch, self.device = G.train(), D.train(), batch, torch.device(device)
        self.G_ema = copy.deepcopy(G).eval()
        parameters = inspect.signature(loss_module.StyleGAN2Loss.__init__).parameters
        common = dict(device=self.device, D=D, r1_gamma=gamma, style_mixing_prob=style_mixing,
                      pl_weight=pl_weight)
        if "G_mapping" in parameters:  # stylegan2-ada-pytorch
            self.loss = loss_module.StyleGAN2Loss(G_mapping=G.mapping, G_synthesis=G.synthesis, **common)
        else:  # stylegan3
            self.loss = loss_module.StyleGAN2Loss(G=G, **common)
        self.accumulate_takes_sync = "sync" in inspect.signature(self.loss.accumulate_gradients).parameters
        self.phases = []
        for name, module, interval in (("G", G, 4), ("D", D, 16)):
            ratio = interval / (interval + 1)
            opt = torch.optim.Adam(module.parameters(), lr=lr * ratio, betas=(0.0, 0.99 ** ratio), eps=1e-8)
            self.phases += [(name + "main", module, opt, 1), (name + "reg", module, opt, interval)]
        self.step_index, self.cur_nimg = 0, 0

    def run(self, real_img: torch.Tensor) -> None:
        """One step on `real_img` [batch, C, R, R] in [-1, 1] (synthetic reals: no data loading)."""
        real_c = torch.zeros([self.batch, 0], device=self.device)
        for name, module, opt, interval in self.phases:
            if self.step_index % interval != 0:
                continue
            z = torch.randn([self.batch, self.G.z_dim], device=self.device)
            opt.zero_grad(set_to_none=True)
            module.requires_grad_(True)
            kwargs = dict(phase=name, real_img=real_img, real_c=real_c, gen_z=z, gen_c=real_c, gain=interval)
            if self.accumulate_takes_sync:
                kwargs["sync"] = True
            else:
                kwargs["cur_nimg"] = self.cur_nimg
            self.loss.accumulate_gradients(**kwargs)
            module.requires_grad_(False)
            for p in module.parameters():
                if p.grad is not None:
                    torch.nan_to_num(p.grad, nan=0, posinf=1e5, neginf=-1e5, out=p.grad)
            opt.step()
        with torch.no_grad():  # EMA with the reference's defaults (10 kimg half-life, ramp-up 0.05)
            ema_nimg = min(10_000, max(self.cur_nimg, 1) * 0.05)
            beta = 0.5 ** (self.batch / max(ema_nimg, 1e-8))
            for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters()):
                p_ema.copy_(p.lerp(p_ema, beta))
            for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers()):
                b_ema.copy_(b)
        self.step_index += 1
        self.cur_nimg += self.batch
