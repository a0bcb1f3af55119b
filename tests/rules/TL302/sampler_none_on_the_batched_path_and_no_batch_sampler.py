"""The same data module, but the batch sampler is only used for validation: the training
loader gets `sampler=None` on the batched path and nothing else, so it reads the stored order."""

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
            self.val_batch_sampler = sampler
            sampler = None
        batch_sampler = None
        return DataLoader(self.dataset, batch_size=16, sampler=sampler, batch_sampler=batch_sampler)  # TL302
