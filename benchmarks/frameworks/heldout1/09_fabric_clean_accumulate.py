"""Fabric training loop with gradient accumulation, validation and early model selection."""
import argparse
import copy

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
import lightning as L


def get_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--grad-accum", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    return parser.parse_args()


class MLP(nn.Module):
    def __init__(self, d_in, d_hidden, n_classes):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(d_in, d_hidden),
            nn.BatchNorm1d(d_hidden),
            nn.ReLU(),
            nn.Dropout(0.25),
            nn.Linear(d_hidden, d_hidden),
            nn.BatchNorm1d(d_hidden),
            nn.ReLU(),
        )
        self.head = nn.Linear(d_hidden, n_classes)

    def forward(self, x):
        return self.head(self.body(x))


def make_split(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 30, generator=g) * torch.linspace(0.5, 3.0, 30) + 5.0
    y = ((x[:, :5].sum(1) - 25.0) > 0).long() + ((x[:, 5:10].sum(1) - 25.0) > 0).long()
    return x, y


def evaluate(model, loader, criterion):
    model.eval()
    loss_sum, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            loss_sum += criterion(logits, y).item() * y.size(0)
            correct += (logits.argmax(1) == y).sum().item()
            count += y.size(0)
    model.train()
    return loss_sum / count, correct / count


def main():
    args = get_args()
    fabric = L.Fabric(accelerator="cpu", devices=1, precision="32-true")
    fabric.seed_everything(17)

    x_tr, y_tr = make_split(1280, 0)
    x_va, y_va = make_split(300, 1)
    mean, std = x_tr.mean(0), x_tr.std(0)
    train_ds = TensorDataset((x_tr - mean) / std, y_tr)
    val_ds = TensorDataset((x_va - mean) / std, y_va)
    train_loader = DataLoader(train_ds, batch_size=args.batch_size, shuffle=True, drop_last=True)
    val_loader = DataLoader(val_ds, batch_size=100)

    model = MLP(30, 64, 3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    model, optimizer = fabric.setup(model, optimizer)
    train_loader, val_loader = fabric.setup_dataloaders(train_loader, val_loader)
    criterion = nn.CrossEntropyLoss()

    best_acc, best_state = -1.0, None
    model.train()
    for epoch in range(args.epochs):
        for i, (x, y) in enumerate(train_loader):
            is_accumulating = (i + 1) % args.grad_accum != 0
            with fabric.no_backward_sync(model, enabled=is_accumulating):
                loss = criterion(model(x), y) / args.grad_accum
                fabric.backward(loss)
            if not is_accumulating:
                fabric.clip_gradients(model, optimizer, max_norm=1.0)
                optimizer.step()
                optimizer.zero_grad()
        val_loss, val_acc = evaluate(model, val_loader, criterion)
        fabric.print(f"epoch {epoch} val_loss={val_loss:.3f} val_acc={val_acc:.3f}")
        if val_acc > best_acc:
            best_acc, best_state = val_acc, copy.deepcopy(model.state_dict())

    model.load_state_dict(best_state)
    fabric.print("best val acc", best_acc)


if __name__ == "__main__":
    main()
