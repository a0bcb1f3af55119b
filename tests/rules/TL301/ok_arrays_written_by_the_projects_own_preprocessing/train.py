"""Trains on the patches `preprocess.py` wrote: `np.load` reads arrays the project scaled itself."""

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset

from preprocess import save_patches


class Patches(Dataset):
    def __init__(self, paths: list, labels: list) -> None:
        self.paths, self.labels = paths, labels

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        volume = np.load(self.paths[i])
        return torch.FloatTensor(volume).unsqueeze(0), self.labels[i]  # ok: normalised before saving


volumes = [np.random.rand(8, 8, 8) * 1000 for _ in range(4)]
loader = DataLoader(Patches(save_patches(volumes, "/tmp"), [0, 1, 0, 1]), batch_size=2, shuffle=True)
model = nn.Sequential(nn.Conv3d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6 * 6, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for x, y in loader:
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
