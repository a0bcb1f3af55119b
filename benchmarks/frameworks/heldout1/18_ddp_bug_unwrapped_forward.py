"""Multi-process data-parallel regression with torch.distributed (gloo backend)."""
import argparse
import os

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--batch-size", type=int, default=32)
    return p.parse_args()


class Regressor(nn.Module):
    def __init__(self, d_in=10, hidden=32):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(d_in, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.layers(x).squeeze(-1)


def setup():
    dist.init_process_group("gloo")
    return dist.get_rank(), dist.get_world_size()


def build_data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2048, 10, generator=g)
    y = x[:, 0] * 2.0 - x[:, 1] + 0.3 * x[:, 2] ** 2 + 0.1 * torch.randn(2048, generator=g)
    return TensorDataset(x, y)


def train(args, rank, world_size):
    torch.manual_seed(42)
    model = Regressor()
    ddp_model = DistributedDataParallel(model)
    optimizer = torch.optim.Adam(ddp_model.parameters(), lr=args.lr)
    loss_fn = nn.MSELoss()

    dataset = build_data()
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank)
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler)

    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        ddp_model.train()
        total = torch.zeros(2)
        for x, y in loader:
            optimizer.zero_grad()
            pred = model(x)
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            total += torch.tensor([loss.item() * len(y), len(y)])
        dist.all_reduce(total)
        if rank == 0:
            print(f"[epoch {epoch}] mse={total[0] / total[1]:.4f}")


def main():
    args = parse()
    rank, world_size = setup()
    try:
        train(args, rank, world_size)
    finally:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
