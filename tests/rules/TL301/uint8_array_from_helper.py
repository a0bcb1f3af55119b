"""A loader helper returns uint8 patches; main() turns them into float tensors for training."""

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

def load_patches(n):
    pixels = np.random.randint(0, 200, size=(n, 1, 8, 8))
    return pixels.astype(np.uint8), np.random.randint(0, 2, size=n)

def main():
    pixels, labels = load_patches(64)
    images = torch.from_numpy(pixels).float()  # TL301
    loader = DataLoader(TensorDataset(images, torch.from_numpy(labels)), batch_size=8, shuffle=True)
    train(nn.Sequential(nn.Flatten(), nn.Linear(64, 2)), loader)

def train(model, loader):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    for x, y in loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

main()
