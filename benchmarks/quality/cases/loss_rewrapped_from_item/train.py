import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def weighted_loss(criterion, logits, targets, weight):
    # combine with a per-batch weight coming from the curriculum schedule
    value = criterion(logits, targets).item() * weight
    return torch.tensor(value, requires_grad=True)


def main():
    torch.manual_seed(0)
    x = torch.randn(300, 10)
    y = torch.randint(0, 3, (300,))
    loader = DataLoader(TensorDataset(x, y), batch_size=30, shuffle=True)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        weight = 0.5 + 0.5 * epoch
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = weighted_loss(criterion, model(xb), yb, weight)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: {loss.item():.4f}")


if __name__ == "__main__":
    main()
