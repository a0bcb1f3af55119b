"""Linear evaluation trained for a fixed number of iterations, drawing batches with `next()`
from `cycle(train_loader)`: the loader is read epoch after epoch, and its sampler is never told
the epoch."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from common import cycle


def main(iterations: int) -> None:
    dataset = TensorDataset(torch.randn(256, 16), torch.randint(0, 4, (256,)))
    loader = DataLoader(dataset, batch_size=32, sampler=DistributedSampler(dataset))  # TL304
    batches = cycle(loader, torch.device("cpu"))
    classifier = nn.Linear(16, 4)
    optimizer = torch.optim.SGD(classifier.parameters(), lr=0.1)
    for iteration in range(1, iterations + 1):
        optimizer.zero_grad()
        x, y = next(batches)
        nn.functional.cross_entropy(classifier(x), y).backward()
        optimizer.step()


if __name__ == "__main__":
    main(1000)
