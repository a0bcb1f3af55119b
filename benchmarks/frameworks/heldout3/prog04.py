import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

CONFIG = {
    "seed": 1234,
    "epochs": 4,
    "batch_size": 32,
    "lr": 0.05,
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "n_train": 2048,
    "n_val": 512,
    "dim": 24,
    "n_classes": 6,
}


def setup():
    dist.init_process_group(backend="gloo")
    return dist.get_rank(), dist.get_world_size()


def make_split(n, dim, n_classes, seed):
    g = torch.Generator().manual_seed(seed)
    proj = torch.randn(dim, n_classes, generator=torch.Generator().manual_seed(0))
    x = torch.randn(n, dim, generator=g)
    y = torch.argmax(torch.tanh(x) @ proj, dim=1)
    return TensorDataset(x, y)


class ResidualBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.BatchNorm1d(dim)
        self.fc1 = nn.Linear(dim, dim * 2)
        self.fc2 = nn.Linear(dim * 2, dim)

    def forward(self, x):
        return x + self.fc2(F.relu(self.fc1(self.norm(x))))


class Net(nn.Module):
    def __init__(self, dim, n_classes, width=64):
        super().__init__()
        self.stem = nn.Linear(dim, width)
        self.blocks = nn.Sequential(ResidualBlock(width), ResidualBlock(width))
        self.drop = nn.Dropout(0.1)
        self.out = nn.Linear(width, n_classes)

    def forward(self, x):
        return self.out(self.drop(self.blocks(self.stem(x))))


@torch.no_grad()
def validate(model, loader):
    model.eval()
    stats = torch.zeros(3)
    for x, y in loader:
        logits = model(x)
        stats[0] += F.cross_entropy(logits, y, reduction="sum")
        stats[1] += (logits.argmax(1) == y).sum()
        stats[2] += y.numel()
    dist.all_reduce(stats, op=dist.ReduceOp.SUM)
    model.train()
    return (stats[0] / stats[2]).item(), (stats[1] / stats[2]).item()


def main():
    rank, world = setup()
    torch.manual_seed(CONFIG["seed"])
    cfg = CONFIG

    train_ds = make_split(cfg["n_train"], cfg["dim"], cfg["n_classes"], seed=11)
    val_ds = make_split(cfg["n_val"], cfg["dim"], cfg["n_classes"], seed=12)
    train_sampler = DistributedSampler(train_ds, num_replicas=world, rank=rank, shuffle=True, seed=cfg["seed"])
    val_sampler = DistributedSampler(val_ds, num_replicas=world, rank=rank, shuffle=False)
    train_loader = DataLoader(train_ds, batch_size=cfg["batch_size"], sampler=train_sampler, drop_last=True)
    val_loader = DataLoader(val_ds, batch_size=128, sampler=val_sampler)

    model = DDP(Net(cfg["dim"], cfg["n_classes"]))
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"],
                                weight_decay=cfg["weight_decay"], nesterov=True)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2, 3], gamma=0.2)

    model.train()
    for epoch in range(cfg["epochs"]):
        train_sampler.set_epoch(epoch)
        seen, loss_total = 0, 0.0
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            loss_total += loss.item() * y.size(0)
            seen += y.size(0)
        scheduler.step()
        val_loss, val_acc = validate(model, val_loader)
        if rank == 0:
            print(f"[epoch {epoch}] train_loss={loss_total / seen:.4f} val_loss={val_loss:.4f} val_acc={val_acc:.3f}")

    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
