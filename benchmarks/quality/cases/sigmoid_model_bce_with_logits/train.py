"""Binary fraud-style classifier on synthetic transactions."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class FraudNet(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(n_features, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU())
        self.out = nn.Linear(16, 1)

    def forward(self, x):
        h = self.hidden(x)
        return torch.sigmoid(self.out(h))


def main():
    torch.manual_seed(7)
    x = torch.randn(600, 12)
    y = ((x[:, 0] + x[:, 3] * x[:, 5]) > 1.0).float().unsqueeze(1)
    loader = DataLoader(TensorDataset(x, y), batch_size=50, shuffle=True)

    model = FraudNet(12)
    pos_weight = (y.numel() - y.sum()) / y.sum()
    criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    for epoch in range(2):
        model.train()
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            scores = model(xb)
            loss = criterion(scores, yb)
            loss.backward()
            optimizer.step()
            total += loss.item()
        print(f"epoch {epoch}: {total / len(loader):.4f}")


if __name__ == "__main__":
    main()
