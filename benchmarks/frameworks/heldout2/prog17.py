"""Keyword-spotting style audio-feature classifier with Lightning Fabric and gradient accumulation."""
import argparse
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, TensorDataset


def fake_mfcc(n, n_mels=20, frames=40, n_classes=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, n_classes, (n,), generator=g)
    templates = torch.randn(n_classes, n_mels, 1, generator=g)
    envelope = torch.hann_window(frames)[None, None, :]
    x = templates[y] * envelope + 0.5 * torch.randn(n, n_mels, frames, generator=g)
    return x, y


class KWSNet(nn.Module):
    def __init__(self, n_mels, n_classes):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(n_mels, 64, 3, padding=1), nn.BatchNorm1d(64), nn.ReLU(),
            nn.Conv1d(64, 64, 3, padding=1, groups=4), nn.BatchNorm1d(64), nn.ReLU(),
        )
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(64, n_classes)

    def forward(self, x):
        h = self.conv(x)
        h = torch.amax(h, dim=-1)
        return self.fc(self.drop(h))


def validate(fabric, model, loader):
    model.eval()
    loss_sum, correct, n = 0.0, 0, 0
    with torch.inference_mode():
        for x, y in loader:
            logits = model(x)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(-1) == y).sum().item()
            n += y.numel()
    model.train()
    stats = fabric.all_reduce(torch.tensor([loss_sum, correct, n], dtype=torch.float), reduce_op="sum")
    return (stats[0] / stats[2]).item(), (stats[1] / stats[2]).item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--micro-batch", type=int, default=16)
    parser.add_argument("--accumulate", type=int, default=4)
    parser.add_argument("--lr", type=float, default=2e-3)
    args = parser.parse_args()

    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(99)

    x, y = fake_mfcc(960)
    train_ds = TensorDataset(x[:768], y[:768])
    val_ds = TensorDataset(x[768:], y[768:])
    train_loader = DataLoader(train_ds, batch_size=args.micro_batch, shuffle=True, drop_last=True)
    val_loader = DataLoader(val_ds, batch_size=64)

    model = KWSNet(n_mels=20, n_classes=6)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-2)
    model, optimizer = fabric.setup(model, optimizer)
    train_loader, val_loader = fabric.setup_dataloaders(train_loader, val_loader)

    step = 0
    for epoch in range(args.epochs):
        model.train()
        for i, (xb, yb) in enumerate(train_loader):
            is_accumulating = (i + 1) % args.accumulate != 0
            with fabric.no_backward_sync(model, enabled=is_accumulating):
                loss = F.cross_entropy(model(xb), yb) / args.accumulate
                fabric.backward(loss)
            if not is_accumulating:
                fabric.clip_gradients(model, optimizer, max_norm=2.0)
                optimizer.step()
                optimizer.zero_grad()
                step += 1
        val_loss, val_acc = validate(fabric, model, val_loader)
        fabric.print(f"epoch {epoch} optimizer steps {step} val_loss {val_loss:.4f} val_acc {val_acc:.3f}")

    state = {"model": model, "optimizer": optimizer, "step": step}
    path = os.path.join(tempfile.mkdtemp(prefix="kws_"), "last.ckpt")
    fabric.save(path, state)
    fabric.print("checkpoint written:", path)


if __name__ == "__main__":
    main()
