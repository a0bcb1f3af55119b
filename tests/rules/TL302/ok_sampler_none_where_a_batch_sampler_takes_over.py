"""A geospatial data module hands its loader either a random point sampler or, for a batch
sampler, `batch_sampler=` with `sampler=None`: every path gives the loader a random sampler of
one kind, so the stored order is never read."""

import lightning as L
from torch.utils.data import DataLoader, Dataset, RandomSampler, Sampler


class Tiles(Dataset):
    def __len__(self) -> int:
        return 1000

    def __getitem__(self, i):
        return i


class RandomBatchTiles(Sampler):
    """Yields random batches of tile indices."""

    def __iter__(self):
        return iter([])


class GeoDataModule(L.LightningDataModule):
    def __init__(self, batched: bool) -> None:
        super().__init__()
        self.dataset = Tiles()
        self.sampler = RandomBatchTiles(self.dataset) if batched else RandomSampler(self.dataset)

    def train_dataloader(self):
        sampler = self.sampler
        if isinstance(sampler, RandomBatchTiles):
            batch_size = 1
            batch_sampler = sampler
            sampler = None
        else:
            batch_size = 16
            batch_sampler = None
        return DataLoader(self.dataset, batch_size=batch_size, sampler=sampler, batch_sampler=batch_sampler)
