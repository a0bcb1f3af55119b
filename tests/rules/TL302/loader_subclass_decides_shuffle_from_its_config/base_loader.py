"""A DataLoader subclass that takes `shuffle` from its caller and hands it on."""

from torch.utils.data import DataLoader


class BaseDataLoader(DataLoader):
    def __init__(self, dataset, batch_size: int, shuffle: bool, num_workers: int = 0) -> None:
        self.shuffle = shuffle
        super().__init__(dataset, batch_size=batch_size, shuffle=self.shuffle, num_workers=num_workers)
