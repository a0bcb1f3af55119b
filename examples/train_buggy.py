"""A small classifier whose loss won't go down. `trainlint check examples/train_buggy.py` says why."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self, n_features: int = 20, n_classes: int = 4) -> None:
        super().__init__()
        self.hidden = nn.Linear(n_features, 64)
        self.out = nn.Linear(64, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.hidden(x))
        return F.softmax(self.out(x), dim=1)


def main() -> None:
    torch.manual_seed(0)
    features = torch.randn(512, 20)
    labels = (features[:, 0] > 0).long() + 2 * (features[:, 1] > 0).long()
    loader = DataLoader(TensorDataset(features, labels), batch_size=32, shuffle=True)

    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    criterion = nn.CrossEntropyLoss()

    for epoch in range(3):
        total = 0.0
        for x, y in loader:
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item()
        print(f"epoch {epoch}: loss {total / len(loader):.3f}")


if __name__ == "__main__":
    main()
