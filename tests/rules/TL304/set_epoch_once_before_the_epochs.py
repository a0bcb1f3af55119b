"""`set_epoch` called once while setting up, before `trainer.run` runs every epoch over the
loader (and once before a plain epoch loop)."""

import torch
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


def run(trainer, dataset: TensorDataset, epochs: int) -> None:
    loader = DataLoader(dataset, batch_size=32, sampler=DistributedSampler(dataset))
    loader.sampler.set_epoch(0)  # TL304
    trainer.run(loader, max_epochs=epochs)


def main(model: torch.nn.Module, dataset: TensorDataset, epochs: int) -> None:
    sampler = DistributedSampler(dataset)
    loader = DataLoader(dataset, batch_size=32, sampler=sampler)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sampler.set_epoch(0)  # TL304
    for epoch in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()
