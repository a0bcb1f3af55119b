"""`set_epoch` in an epoch-start handler, inside the epoch loop, in a function the epoch loop
calls; and once for a loader that only a one-off pass reads (the training uses another)."""

import torch
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


def run(trainer, events, dataset: TensorDataset, epochs: int) -> None:
    loader = DataLoader(dataset, batch_size=32, sampler=DistributedSampler(dataset))

    @trainer.on(events.EPOCH_STARTED)
    def set_epoch() -> None:
        loader.sampler.set_epoch(trainer.state.epoch - 1)

    trainer.run(loader, max_epochs=epochs)


def start_epoch(loader: DataLoader, epoch: int) -> None:
    loader.sampler.set_epoch(epoch)


def main(model: torch.nn.Module, dataset: TensorDataset, epochs: int, fit) -> None:
    sampler = DistributedSampler(dataset)
    loader = DataLoader(dataset, batch_size=32, sampler=sampler)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(epochs):
        start_epoch(loader, epoch)
        sampler.set_epoch(epoch)
        for x, y in loader:
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()

    probe_sampler = DistributedSampler(dataset)
    probe = DataLoader(dataset, batch_size=32, sampler=probe_sampler)
    probe_sampler.set_epoch(0)
    statistics = [x.mean() for x, _ in probe]
    fit(model, dataset, num_epochs=epochs, statistics=statistics)
