"""Three-species classifier from four flower measurements (synthetic)."""
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

SPECIES = ["setosa", "versicolor", "virginica"]


def make_dataset(n_per_class=80):
    feats, species = [], []
    for k in range(len(SPECIES)):
        center = torch.tensor([5.0 + k, 3.0 - 0.2 * k, 1.5 + 2 * k, 0.3 + 0.8 * k])
        feats.append(center + 0.3 * torch.randn(n_per_class, 4))
        species.append(torch.full((n_per_class,), k, dtype=torch.long))
    x = torch.cat(feats)
    x = (x - x.mean(dim=0)) / x.std(dim=0)
    return TensorDataset(x, torch.cat(species))


def main():
    torch.manual_seed(0)
    loader = DataLoader(make_dataset(), batch_size=24, shuffle=True)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.L1Loss()
    for epoch in range(2):
        hits = total = 0
        for x, species in loader:
            optimizer.zero_grad()
            pred = model(x).squeeze(1)
            loss = criterion(pred, species.float())
            loss.backward()
            optimizer.step()
            hits += (pred.round().long() == species).sum().item()
            total += species.numel()
        print(f"epoch {epoch}: loss {loss.item():.3f} acc {hits / total:.3f}")


if __name__ == "__main__":
    main()
