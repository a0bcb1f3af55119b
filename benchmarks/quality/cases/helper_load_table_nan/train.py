import csv
import os
import random
import tempfile

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def export_patients(path, n=200, seed=0):
    """Write a patient table; some lab values are missing, as in the real export."""
    rnd = random.Random(seed)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["age", "bmi", "glucose", "insulin", "outcome"])
        for _ in range(n):
            age, bmi = rnd.gauss(45, 12), rnd.gauss(27, 4)
            glucose = rnd.gauss(110, 25) if rnd.random() > 0.05 else ""
            insulin = rnd.gauss(80, 30) if rnd.random() > 0.1 else ""
            outcome = int(bmi > 29 or (glucose != "" and glucose > 130))
            writer.writerow([age, bmi, glucose, insulin, outcome])


def load_table(path):
    raw = np.genfromtxt(path, delimiter=",", skip_header=1)
    features, labels = raw[:, :-1], raw[:, -1]
    features = (features - features.mean(axis=0)) / features.std(axis=0)
    return torch.from_numpy(features).float(), torch.from_numpy(labels).float()


def main():
    torch.manual_seed(0)
    path = os.path.join(tempfile.mkdtemp(), "patients.csv")
    export_patients(path)
    x, y = load_table(path)
    loader = DataLoader(TensorDataset(x, y), batch_size=20, shuffle=True)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.BCEWithLogitsLoss()
    for epoch in range(2):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb).squeeze(1), yb)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: {loss.item():.4f}")


if __name__ == "__main__":
    main()
