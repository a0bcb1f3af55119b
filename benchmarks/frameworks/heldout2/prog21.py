"""Multi-task tabular classifier trained with DistributedDataParallel (launch with torchrun)."""
import os
import tempfile
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


@dataclass
class Cfg:
    in_dim: int = 32
    hidden: int = 96
    n_classes: int = 5
    n_aux: int = 3
    aux_weight: float = 0.0
    epochs: int = 3
    batch_size: int = 32
    lr: float = 1e-3


class MultiHeadNet(nn.Module):
    def __init__(self, cfg: Cfg):
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Linear(cfg.in_dim, cfg.hidden), nn.LayerNorm(cfg.hidden), nn.ReLU(),
            nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU(),
        )
        self.main_head = nn.Linear(cfg.hidden, cfg.n_classes)
        self.aux_head = nn.Linear(cfg.hidden, cfg.n_aux)

    def forward(self, x):
        h = self.trunk(x)
        return self.main_head(h), self.aux_head(h)


def make_data(cfg, n=1024, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, cfg.in_dim, generator=g)
    y_main = (x[:, :cfg.n_classes] * 2).argmax(1)
    y_aux = (x[:, -1] > 0).long() + (x[:, -2] > 0).long()
    return TensorDataset(x, y_main, y_aux)


def main():
    cfg = Cfg()
    dist.init_process_group(backend="gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)

    dataset = make_data(cfg)
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank)
    loader = DataLoader(dataset, batch_size=cfg.batch_size, sampler=sampler)

    model = DDP(MultiHeadNet(cfg))
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr)

    for epoch in range(cfg.epochs):
        sampler.set_epoch(epoch)
        model.train()
        seen, loss_sum = 0, 0.0
        for step, (x, y_main, y_aux) in enumerate(loader):
            main_logits, aux_logits = model(x)
            loss = F.cross_entropy(main_logits, y_main)
            if cfg.aux_weight > 0:
                loss = loss + cfg.aux_weight * F.cross_entropy(aux_logits, y_aux)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * x.size(0)
            seen += x.size(0)
        stats = torch.tensor([loss_sum, seen])
        dist.all_reduce(stats)
        if rank == 0:
            print(f"epoch {epoch}: mean loss {(stats[0] / stats[1]).item():.4f}")

    if rank == 0:
        torch.save(model.module.state_dict(), os.path.join(tempfile.mkdtemp(), "multihead.pt"))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
