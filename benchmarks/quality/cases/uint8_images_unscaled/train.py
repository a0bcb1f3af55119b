"""Tiny CNN on 8-bit grayscale patches (synthetic stand-in for a folder of PNGs)."""
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def load_patches(n, rng):
    labels = rng.integers(0, 2, size=n)
    pixels = rng.integers(0, 128, size=(n, 1, 16, 16))
    pixels[labels == 1, :, 4:12, 4:12] += 120
    return pixels.astype(np.uint8), labels


class PatchNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 4 * 4, 2)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        return self.fc(x.flatten(1))


def main():
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    pixels, labels = load_patches(256, rng)
    images = torch.from_numpy(pixels).float()
    targets = torch.from_numpy(labels).long()
    loader = DataLoader(TensorDataset(images, targets), batch_size=32, shuffle=True)

    model = PatchNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: {loss.item():.4f}")


if __name__ == "__main__":
    main()
