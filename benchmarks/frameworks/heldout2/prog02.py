"""Distributed data-parallel regression training (launch with torchrun)."""
import os
import tempfile
from contextlib import nullcontext
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler


@dataclass
class Config:
    epochs: int = 4
    batch_size: int = 32
    accum_steps: int = 2
    lr: float = 3e-3
    n_train: int = 2048
    n_val: int = 512
    in_dim: int = 16


class SyntheticRegression(Dataset):
    def __init__(self, n, in_dim, seed):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, in_dim, generator=g)
        w = torch.linspace(-1.0, 1.0, in_dim)
        self.y = (self.x @ w).unsqueeze(1) + 0.1 * torch.randn(n, 1, generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return self.x[idx], self.y[idx]


class Regressor(nn.Module):
    def __init__(self, in_dim, hidden=64):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.SiLU(),
        )
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.out(self.body(x))


def evaluate(model, loader, loss_fn):
    model.eval()
    total = torch.zeros(2)
    with torch.no_grad():
        for x, y in loader:
            pred = model(x)
            total[0] += loss_fn(pred, y).item() * x.size(0)
            total[1] += x.size(0)
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    model.train()
    return (total[0] / total[1]).item()


def main():
    cfg = Config()
    dist.init_process_group(backend="gloo")
    rank = dist.get_rank()
    world = dist.get_world_size()
    torch.manual_seed(1234)

    train_ds = SyntheticRegression(cfg.n_train, cfg.in_dim, seed=0)
    val_ds = SyntheticRegression(cfg.n_val, cfg.in_dim, seed=1)
    train_sampler = DistributedSampler(train_ds, num_replicas=world, rank=rank, shuffle=True)
    val_sampler = DistributedSampler(val_ds, num_replicas=world, rank=rank, shuffle=False)
    train_loader = DataLoader(train_ds, batch_size=cfg.batch_size, sampler=train_sampler, drop_last=True)
    val_loader = DataLoader(val_ds, batch_size=128, sampler=val_sampler)

    model = DDP(Regressor(cfg.in_dim))
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    loss_fn = nn.MSELoss()

    for epoch in range(cfg.epochs):
        train_sampler.set_epoch(epoch)
        model.train()
        optimizer.zero_grad(set_to_none=True)
        for step, (x, y) in enumerate(train_loader):
            boundary = (step + 1) % cfg.accum_steps == 0
            ctx = nullcontext() if boundary else model.no_sync()
            with ctx:
                loss = loss_fn(model(x), y) / cfg.accum_steps
                loss.backward()
            if boundary:
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
        val_mse = evaluate(model, val_loader, loss_fn)
        if rank == 0:
            print(f"epoch {epoch} val_mse {val_mse:.4f}")

    if rank == 0:
        ckpt_dir = tempfile.mkdtemp(prefix="ddp_reg_")
        torch.save(model.module.state_dict(), os.path.join(ckpt_dir, "regressor.pt"))
        print("saved to", ckpt_dir)

    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
