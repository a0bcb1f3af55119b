"""DDP on CPU with gradient accumulation via no_sync, per-epoch sampler reseeding and sharded eval."""
import contextlib
import os

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

EPOCHS = 3
ACCUM = 2


class Net(nn.Module):
    def __init__(self, d_in=20, hidden=64, n_cls=3):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.bn = nn.BatchNorm1d(hidden)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(hidden, n_cls)

    def forward(self, x):
        return self.fc2(self.drop(F.relu(self.bn(self.fc1(x)))))


def datasets():
    g = torch.Generator().manual_seed(7)
    raw = torch.rand(1600, 20, generator=g) * 100.0
    y = (raw[:, :3].sum(1) // 100).clamp(max=2).long()
    mean, std = raw[:1280].mean(0), raw[:1280].std(0)
    x = (raw - mean) / std
    return TensorDataset(x[:1280], y[:1280]), TensorDataset(x[1280:], y[1280:])


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    stats = torch.zeros(3)
    for x, y in loader:
        logits = model(x)
        stats[0] += F.cross_entropy(logits, y, reduction="sum")
        stats[1] += (logits.argmax(1) == y).sum()
        stats[2] += y.numel()
    dist.all_reduce(stats)
    return (stats[0] / stats[2]).item(), (stats[1] / stats[2]).item()


def main():
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)

    train_ds, val_ds = datasets()
    train_sampler = DistributedSampler(train_ds, shuffle=True, seed=0)
    val_sampler = DistributedSampler(val_ds, shuffle=False)
    train_loader = DataLoader(train_ds, batch_size=16, sampler=train_sampler, drop_last=True)
    val_loader = DataLoader(val_ds, batch_size=64, sampler=val_sampler)

    model = DDP(Net())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.3)

    for epoch in range(EPOCHS):
        train_sampler.set_epoch(epoch)
        model.train()
        optimizer.zero_grad()
        for step, (x, y) in enumerate(train_loader):
            sync_now = (step + 1) % ACCUM == 0
            ctx = contextlib.nullcontext() if sync_now else model.no_sync()
            with ctx:
                loss = F.cross_entropy(model(x), y) / ACCUM
                loss.backward()
            if sync_now:
                optimizer.step()
                optimizer.zero_grad()
        scheduler.step()
        val_loss, val_acc = evaluate(model, val_loader)
        if rank == 0:
            print(f"epoch {epoch}: val_loss={val_loss:.4f} val_acc={val_acc:.3f} lr={scheduler.get_last_lr()[0]:.4f}")

    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
