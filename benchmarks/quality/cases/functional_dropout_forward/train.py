import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class RegularizedMLP(nn.Module):
    def __init__(self, d_in, d_hidden, n_classes, p_drop=0.3):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.fc2 = nn.Linear(d_hidden, d_hidden)
        self.out = nn.Linear(d_hidden, n_classes)
        self.p_drop = p_drop

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.dropout(x, self.p_drop)
        x = F.relu(self.fc2(x))
        return self.out(x)


def main():
    torch.manual_seed(0)
    x = torch.randn(400, 24)
    y = (x[:, :3].sum(1) > 0).long()
    train_loader = DataLoader(TensorDataset(x[:320], y[:320]), batch_size=32, shuffle=True)
    test_loader = DataLoader(TensorDataset(x[320:], y[320:]), batch_size=80)

    model = RegularizedMLP(24, 64, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        model.train()
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            acc = sum((model(xb).argmax(1) == yb).sum().item() for xb, yb in test_loader) / 80
        print(f"epoch {epoch}: test acc {acc:.3f}")


if __name__ == "__main__":
    main()
