import argparse

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def get_args():
    parser = argparse.ArgumentParser(description="imbalanced classification, DDP on CPU")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--per-rank-batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def build_data(n, seed, dim=16, n_classes=3):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=g)
    margin = x[:, 0] + 0.5 * x[:, 1] - 0.3 * x[:, 2]
    y = torch.zeros(n, dtype=torch.long)
    y[margin > 0.6] = 1
    y[margin > 1.6] = 2
    return TensorDataset(x, y)


class Classifier(nn.Module):
    def __init__(self, dim=16, hidden=64, n_classes=3):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(dim, hidden), nn.ReLU(), nn.Dropout(0.1),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x):
        return self.layers(x)


def class_weights(dataset, n_classes=3):
    counts = torch.bincount(dataset.tensors[1], minlength=n_classes).float()
    return counts.sum() / (n_classes * counts)


def main():
    args = get_args()
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    world_size = dist.get_world_size()
    torch.manual_seed(args.seed)

    train_set = build_data(2400, seed=1)
    test_set = build_data(600, seed=2)
    sampler = DistributedSampler(train_set, num_replicas=world_size, rank=rank, shuffle=True)
    train_loader = DataLoader(train_set, batch_size=args.per_rank_batch, sampler=sampler)
    test_loader = DataLoader(test_set, batch_size=200,
                             sampler=DistributedSampler(test_set, shuffle=False))

    model = DistributedDataParallel(Classifier())
    criterion = nn.NLLLoss(weight=class_weights(train_set))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        model.train()
        epoch_loss, n_batches = 0.0, 0
        for x, y in train_loader:
            optimizer.zero_grad()
            output = model(x)
            loss = criterion(output, y)
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item()
            n_batches += 1

        model.eval()
        correct = torch.zeros(2)
        with torch.no_grad():
            for x, y in test_loader:
                pred = model(x).argmax(dim=1)
                correct += torch.tensor([(pred == y).sum().item(), y.numel()], dtype=torch.float)
        dist.all_reduce(correct)
        if rank == 0:
            print(f"epoch {epoch}: loss {epoch_loss / n_batches:.4f}, acc {correct[0] / correct[1]:.3f}")

    dist.destroy_process_group()


if __name__ == "__main__":
    main()
