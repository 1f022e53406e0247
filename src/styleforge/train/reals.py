"""Real images in a fixed pseudo-random order, so that image number n of a run is a pure function of
(seed, n) and resuming needs only the image count."""

from __future__ import annotations

import numpy as np
import torch


class RealImages:
    """Real images in a fixed pseudo-random order: image number n of the run is a pure function of
    (seed, n), so resuming needs only the image count. Infinite datasets are read in order."""

    def __init__(self, dataset, seed: int, mirror: bool):
        self.dataset, self.seed, self.mirror = dataset, seed, mirror
        self.size = len(dataset)
        self.infinite = self.size >= 2 ** 30
        self._epoch, self._order = None, None

    def index(self, n: int) -> int:
        if self.infinite:
            return n
        epoch, position = divmod(n, self.size)
        if epoch != self._epoch:
            self._epoch = epoch
            self._order = np.random.default_rng([self.seed, epoch]).permutation(self.size)
        return int(self._order[position])

    def batch(self, start: int, count: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        """(images [count, C, H, W] in [-1, 1], labels [count, c_dim]) for images start..start+count."""
        images, labels = [], []
        for n in range(start, start + count):
            i = self.index(n)
            image = self.dataset.image(i)
            if self.mirror and np.random.default_rng([self.seed, 1, n]).random() < 0.5:
                image = image[:, :, ::-1]
            images.append(np.ascontiguousarray(image))
            labels.append(self.dataset.label(i))
        x = torch.from_numpy(np.stack(images)).to(device=device, dtype=torch.float32) / 127.5 - 1
        return x, torch.from_numpy(np.stack(labels)).to(device)
