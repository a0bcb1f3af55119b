"""Small convolutional classifier compiled with torch.compile, bf16 autocast on CPU."""
import argparse
import os
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def synthetic_images(n, n_classes=5, size=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, n_classes, (n,), generator=g)
    base = torch.randn(n_classes, 3, size, size, generator=g)
    x = base[y] + 0.8 * torch.randn(n, 3, size, size, generator=g)
    x = (x - x.mean(dim=(0, 2, 3), keepdim=True)) / x.std(dim=(0, 2, 3), keepdim=True)
    return TensorDataset(x, y)


class ConvBlock(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class SmallNet(nn.Module):
    def __init__(self, n_classes):
        super().__init__()
        self.features = nn.Sequential(
            ConvBlock(3, 16), nn.MaxPool2d(2),
            ConvBlock(16, 32), nn.AdaptiveAvgPool2d(1),
        )
        self.classifier = nn.Linear(32, n_classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def train_one_epoch(model, loader, optimizer, scheduler, criterion):
    model.train()
    running, batches = 0.0, 0
    for images, targets in loader:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            logits = model(images)
            loss = criterion(logits, targets)
        loss.backward()
        optimizer.step()
        scheduler.step()
        running += loss.item()
        batches += 1
    return running / batches


def evaluate(model, loader):
    model.eval()
    correct = total = 0
    with torch.inference_mode():
        for images, targets in loader:
            with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
                logits = model(images)
            correct += (logits.argmax(1) == targets).sum().item()
            total += targets.numel()
    return correct / total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-lr", type=float, default=5e-3)
    args = parser.parse_args()

    torch.manual_seed(0)
    full = synthetic_images(1024, seed=0)
    train_set, val_set = torch.utils.data.random_split(full, [768, 256])
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, drop_last=True)
    val_loader = DataLoader(val_set, batch_size=args.batch_size)

    model = SmallNet(n_classes=5)
    model.compile()
    criterion = nn.CrossEntropyLoss(label_smoothing=0.05)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.max_lr, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.max_lr, epochs=args.epochs, steps_per_epoch=len(train_loader)
    )

    for epoch in range(args.epochs):
        t0 = time.time()
        loss = train_one_epoch(model, train_loader, optimizer, scheduler, criterion)
        acc = evaluate(model, val_loader)
        print(f"epoch {epoch} loss {loss:.4f} val_acc {acc:.3f} ({time.time() - t0:.1f}s)")

    out = os.path.join(tempfile.mkdtemp(), "smallnet.pt")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, out)
    print("checkpoint:", out)


if __name__ == "__main__":
    main()
