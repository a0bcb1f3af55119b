"""Gradient accumulation over several micro-batches to emulate a larger batch."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

ACCUM_STEPS = 4


class TinyMLP(nn.Module):
    def __init__(self, d_in, d_hidden, n_out):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.fc2 = nn.Linear(d_hidden, n_out)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


def build_loader():
    x = torch.randn(512, 16)
    y = (x.sum(dim=1) > 0).long()
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    total = 0.0
    for i, (x, y) in enumerate(loader):
        loss = criterion(model(x), y) / ACCUM_STEPS
        loss.backward()
        if (i + 1) % ACCUM_STEPS == 0:
            optimizer.step()
        total += loss.item()
    return total / len(loader)


def main():
    torch.manual_seed(1)
    model = TinyMLP(16, 32, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
    criterion = nn.CrossEntropyLoss()
    loader = build_loader()
    for epoch in range(2):
        avg = train_one_epoch(model, loader, optimizer, criterion)
        print(f"epoch {epoch}: {avg:.4f}")


if __name__ == "__main__":
    main()
