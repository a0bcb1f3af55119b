"""Compiled CNN trained on uint8 image tensors (synthetic CIFAR-shaped data)."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class UInt8Images(Dataset):
    """Images stored as HWC uint8, like a decoded image folder."""

    def __init__(self, n, num_classes=4, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.labels = torch.randint(0, num_classes, (n,), generator=g)
        base = torch.randint(0, 200, (n, 12, 12, 3), generator=g)
        base[..., 0] += (self.labels * 18).view(-1, 1, 1)
        self.images = base.clamp(0, 255).to(torch.uint8)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        img = self.images[idx].permute(2, 0, 1).float()
        return img, self.labels[idx]


class TinyCNN(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 3 * 3, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()

    torch.manual_seed(0)
    train_loader = DataLoader(UInt8Images(1024, seed=1), batch_size=64, shuffle=True, drop_last=True)
    test_loader = DataLoader(UInt8Images(256, seed=2), batch_size=128, drop_last=True)

    model = TinyCNN()
    compiled = torch.compile(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    for epoch in range(args.epochs):
        compiled.train()
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(compiled(images), labels)
            loss.backward()
            optimizer.step()

        compiled.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in test_loader:
                correct += (compiled(images).argmax(1) == labels).sum().item()
        print(f"epoch {epoch}: loss {loss.item():.3f} test acc {correct / 256:.3f}")


if __name__ == "__main__":
    main()
