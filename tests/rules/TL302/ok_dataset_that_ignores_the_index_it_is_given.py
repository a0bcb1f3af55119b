"""A Lightning module trains on a map-style facade over a video stream: `__getitem__` ignores
the index and returns the next clip of an iterator whose own sampler draws videos at random.
The loader's index order never reaches the data, so `shuffle=True` would change nothing."""

import itertools

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset
from video_toolkit import VideoStream


class LimitDataset(Dataset):
    def __init__(self, stream, length: int) -> None:
        self.length = length
        self.clips = itertools.chain.from_iterable(itertools.repeat(iter(stream), 2))

    def __getitem__(self, index):
        return next(self.clips)

    def __len__(self) -> int:
        return self.length


class VideoClassifier(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Linear(16, 4)

    def train_dataloader(self):
        stream = VideoStream("train.csv", video_sampler=torch.utils.data.RandomSampler)
        return DataLoader(LimitDataset(stream, 1000), batch_size=8)
