import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def get_args():
    parser = argparse.ArgumentParser("compiled tabular training")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


class Net(nn.Module):
    def __init__(self, d_in=16, d_hidden=64, n_out=3):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.bn1 = nn.BatchNorm1d(d_hidden)
        self.fc2 = nn.Linear(d_hidden, d_hidden)
        self.bn2 = nn.BatchNorm1d(d_hidden)
        self.fc3 = nn.Linear(d_hidden, n_out)

    def forward(self, x):
        x = F.relu(self.bn1(self.fc1(x)))
        x = F.relu(self.bn2(self.fc2(x)))
        return self.fc3(x)


def dataset(n, seed, d_in=16, n_out=3):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d_in, generator=g)
    w1 = torch.randn(d_in, 8, generator=torch.Generator().manual_seed(0))
    w2 = torch.randn(8, n_out, generator=torch.Generator().manual_seed(1))
    y = (torch.relu(x @ w1) @ w2).argmax(dim=1)
    return TensorDataset(x, y)


def main():
    args = get_args()
    torch.manual_seed(args.seed)
    train_loader = DataLoader(dataset(3072, seed=2), batch_size=args.batch_size, shuffle=True, drop_last=True)
    test_x, test_y = dataset(1024, seed=3).tensors

    model = Net()
    model.compile()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)

    for epoch in range(args.epochs):
        model.train()
        t0 = time.perf_counter()
        loss_sum = 0.0
        for x, y in train_loader:
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
        scheduler.step()

        model.eval()
        with torch.no_grad():
            acc = (model(test_x).argmax(1) == test_y).float().mean().item()
        print(f"epoch {epoch}: loss {loss_sum / len(train_loader):.4f} test_acc {acc:.3f} "
              f"({time.perf_counter() - t0:.1f}s)")


if __name__ == "__main__":
    main()
