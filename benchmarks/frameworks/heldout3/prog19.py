from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


@dataclass
class Args:
    epochs: int = 4
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.01
    seed: int = 8
    log_every: int = 1


def synthetic_spirals(n, seed, turns=1.5):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    t = torch.rand(n, generator=g) * turns * 2 * torch.pi
    r = t / (turns * 2 * torch.pi)
    angle = t + y.float() * torch.pi
    pts = torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=1)
    pts = pts + 0.03 * torch.randn(n, 2, generator=g)
    feats = torch.cat([pts, pts ** 2, pts[:, :1] * pts[:, 1:]], dim=1)
    feats = (feats - feats.mean(0)) / feats.std(0)
    return TensorDataset(feats, y)


class SpiralNet(nn.Module):
    def __init__(self, in_dim=5, hidden=64):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, 2),
        )

    def forward(self, x):
        return self.mlp(x)


class DistributedTrainer:
    def __init__(self, args, rank, world_size):
        self.args = args
        self.rank = rank
        self.world_size = world_size
        self.model = DDP(SpiralNet())
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
        self.train_set = synthetic_spirals(2000, seed=1)
        self.val_set = synthetic_spirals(500, seed=2)
        self.sampler = DistributedSampler(self.train_set, shuffle=True, seed=args.seed)
        self.train_loader = DataLoader(self.train_set, batch_size=args.batch_size, sampler=self.sampler)
        self.val_loader = DataLoader(self.val_set, batch_size=250, sampler=DistributedSampler(self.val_set, shuffle=False))

    def train_one_epoch(self, epoch):
        self.sampler.set_epoch(epoch)
        self.model.train()
        running_loss = 0.0
        for x, y in self.train_loader:
            self.optimizer.zero_grad()
            loss = F.cross_entropy(self.model(x), y)
            loss.backward()
            self.optimizer.step()
            running_loss += loss
        return running_loss / len(self.train_loader)

    @torch.no_grad()
    def validate(self):
        self.model.eval()
        correct = torch.zeros(1)
        count = torch.zeros(1)
        for x, y in self.val_loader:
            correct += (self.model(x).argmax(1) == y).sum()
            count += y.numel()
        dist.all_reduce(correct)
        dist.all_reduce(count)
        self.model.train()
        return (correct / count).item()

    def fit(self):
        for epoch in range(self.args.epochs):
            train_loss = self.train_one_epoch(epoch)
            acc = self.validate()
            if self.rank == 0 and epoch % self.args.log_every == 0:
                print(f"epoch {epoch}: train_loss {float(train_loss):.4f} val_acc {acc:.3f}")


def main():
    args = Args()
    dist.init_process_group(backend="gloo")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(args.seed)
    DistributedTrainer(args, rank, world_size).fit()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
