"""Glyph recognition with a small compiled CNN."""
import argparse
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


def render_glyphs(n, n_classes=4, size=20, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, n)
    imgs = rng.integers(0, 40, size=(n, size, size)).astype(np.uint8)
    for i, c in enumerate(labels):
        r0, c0 = rng.integers(2, 6, 2)
        if c == 0:
            imgs[i, r0:r0 + 12, c0 + 5:c0 + 8] = 230
        elif c == 1:
            imgs[i, r0 + 5:r0 + 8, c0:c0 + 12] = 230
        elif c == 2:
            imgs[i, r0:r0 + 12, c0:c0 + 12][np.eye(12, dtype=bool)] = 230
        else:
            imgs[i, r0:r0 + 12, c0:c0 + 12] = 200
    return imgs, labels


class GlyphDataset(Dataset):
    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        img = torch.from_numpy(self.images[idx]).float().unsqueeze(0)
        return img, int(self.labels[idx])


class GlyphNet(nn.Module):
    def __init__(self, n_classes=4):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 5 * 5, 64)
        self.fc2 = nn.Linear(64, n_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)


def run_epoch(model, loader, optimizer=None):
    training = optimizer is not None
    model.train(training)
    total_loss, correct, n = 0.0, 0, 0
    with torch.set_grad_enabled(training):
        for x, y in loader:
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total_loss += loss.item() * y.size(0)
            correct += (logits.argmax(1) == y).sum().item()
            n += y.size(0)
    return total_loss / n, correct / n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    torch.manual_seed(0)

    imgs, labels = render_glyphs(1200)
    train_ds = GlyphDataset(imgs[:960], labels[:960])
    val_ds = GlyphDataset(imgs[960:], labels[960:])
    train_loader = DataLoader(train_ds, batch_size=64, shuffle=True, drop_last=True)
    val_loader = DataLoader(val_ds, batch_size=64, drop_last=True)

    model = GlyphNet()
    compiled = torch.compile(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    for epoch in range(args.epochs):
        tr_loss, tr_acc = run_epoch(compiled, train_loader, optimizer)
        va_loss, va_acc = run_epoch(compiled, val_loader)
        print(f"epoch {epoch}: train {tr_loss:.3f}/{tr_acc:.3f} val {va_loss:.3f}/{va_acc:.3f}")

    path = os.path.join(tempfile.mkdtemp(prefix="glyph_"), "glyphnet.pt")
    torch.save(model.state_dict(), path)
    print("saved", path)


if __name__ == "__main__":
    main()
