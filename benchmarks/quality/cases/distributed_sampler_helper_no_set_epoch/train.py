"""The epoch loop calls a training helper; the loader's DistributedSampler is built inline
and only for distributed runs, and nothing ever sets its epoch."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def train_one_epoch(model, loader, optimizer):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        optimizer.step()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--distributed", action="store_true")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    x = torch.randn(128, 6)
    y = x.sum(1, keepdim=True)
    data = TensorDataset(x, y)
    loader = DataLoader(
        data,
        batch_size=16,
        shuffle=not args.distributed,
        sampler=DistributedSampler(data, num_replicas=1, rank=0) if args.distributed else None,
    )
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(args.epochs):
        train_one_epoch(model, loader, optimizer)


if __name__ == "__main__":
    main()
