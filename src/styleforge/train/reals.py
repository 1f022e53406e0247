"""Real images in a fixed pseudo-random order, so that image number n of a run is a pure function of
(seed, n) and resuming needs only the image count. The next batches are read ahead, on a background
thread or in DataLoader worker processes, while the current step computes (same images either way:
reading is a pure function of the position)."""

from __future__ import annotations

import pickle
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import torch


class RealImages:
    """Real images in a fixed pseudo-random order: image number n of the run is a pure function of
    (seed, n), so resuming needs only the image count. Infinite datasets are read in order. With
    `prefetch`, each `batch(start, count)` starts reading `batch(start + count, count)` on a background
    thread; with `workers` > 1, a torch DataLoader's worker processes read the coming batches instead
    (worker w reads batches w, w + workers, ...; the loader hands them over in order, pinned on CUDA),
    which keeps decoding off the training process's interpreter lock. Same images either way."""

    def __init__(self, dataset, seed: int, mirror: bool, prefetch: bool = True, workers: int = 1):
        self.dataset, self.seed, self.mirror = dataset, seed, mirror
        self.size = len(dataset)
        self.infinite = self.size >= 2 ** 30
        self._epoch, self._order = None, None
        self._lock = threading.Lock()  # index() caches one epoch's order; both threads may ask
        self.workers = max(1, int(workers))
        use_thread = prefetch and self.workers == 1
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="styleforge-reals") if use_thread else None
        self._loader, self._expected = None, None  # worker processes: the running iterator, its next batch
        self._ahead: tuple[tuple[int, int], Future] | None = None

    def index(self, n: int) -> int:
        if self.infinite:
            return n
        epoch, position = divmod(n, self.size)
        with self._lock:
            if epoch != self._epoch:
                self._epoch = epoch
                self._order = np.random.default_rng([self.seed, epoch]).permutation(self.size)
            return int(self._order[position])

    def _read(self, start: int, count: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(uint8 images [count, C, H, W], labels [count, c_dim]) on the CPU."""
        images, labels = [], []
        for n in range(start, start + count):
            i = self.index(n)
            image = self.dataset.image(i)
            if self.mirror and np.random.default_rng([self.seed, 1, n]).random() < 0.5:
                image = image[:, :, ::-1]
            images.append(np.ascontiguousarray(image))
            labels.append(self.dataset.label(i))
        return torch.from_numpy(np.stack(images)), torch.from_numpy(np.stack(labels))

    def _from_workers(self, start: int, count: int, pin: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch at `start` from the worker processes; a jump (resume, another size) restarts them."""
        if self._loader is None or self._expected != (start, count):
            batches = _Batches(self.dataset, self.seed, self.mirror, start, count)
            self._loader = iter(torch.utils.data.DataLoader(batches, batch_size=None, num_workers=self.workers,
                                                            prefetch_factor=2, pin_memory=pin))
        self._expected = (start + count, count)
        return next(self._loader)

    def batch(self, start: int, count: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        """(images [count, C, H, W] in [-1, 1], labels [count, c_dim]) for images start..start+count."""
        device = torch.device(device)
        ahead, self._ahead = self._ahead, None
        if self.workers > 1:
            images, labels = self._from_workers(start, count, pin=device.type == "cuda")
        elif ahead is not None and ahead[0] == (start, count):
            images, labels = ahead[1].result()
        else:
            images, labels = self._read(start, count)
        if self._reader is not None:
            self._ahead = ((start + count, count), self._reader.submit(self._read, start + count, count))
        if device.type == "cuda" and not images.is_pinned():  # pinned memory: the copy overlaps the step
            images, labels = images.pin_memory(), labels.pin_memory()
        x = images.to(device=device, non_blocking=True).to(torch.float32) / 127.5 - 1
        return x, labels.to(device, non_blocking=True)


class _Batches(torch.utils.data.IterableDataset):
    """Batches start, start + count, ... of the run's image order, for DataLoader worker processes."""

    def __init__(self, dataset, seed: int, mirror: bool, start: int, count: int):
        self.dataset, self.seed, self.mirror, self.start, self.count = dataset, seed, mirror, start, count

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        k, stride = (info.id, info.num_workers) if info is not None else (0, 1)
        # A copy through pickling: a zip dataset opens its own file handle in each worker.
        reader = RealImages(pickle.loads(pickle.dumps(self.dataset)), self.seed, self.mirror, prefetch=False)
        while True:
            yield reader._read(self.start + k * self.count, self.count)
            k += stride
