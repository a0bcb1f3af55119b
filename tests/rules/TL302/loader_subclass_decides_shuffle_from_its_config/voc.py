"""A loader built from one configuration section, whose `shuffle` entry it reads itself."""

import torch
from torch.utils.data import TensorDataset

from base_loader import BaseDataLoader


class VOC(BaseDataLoader):
    def __init__(self, kwargs: dict) -> None:
        batch_size = kwargs.pop("batch_size")
        try:
            shuffle = kwargs.pop("shuffle")
        except KeyError:
            shuffle = False
        images, labels = torch.load(kwargs["path"])
        dataset = TensorDataset(images, labels)
        super().__init__(dataset, batch_size, shuffle)
