"""A tabular classifier whose `predict` helper loops over the test batches with autograd on."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def make_data(n):
    x = torch.randn(n, 10)
    y = (x[:, :3].sum(1) > 0).long()
    return x, y


def predict(model, loader):
    model.eval()
    preds = []
    for (xb,) in loader:
        preds.append(model(xb).argmax(1))
    return torch.cat(preds)


def main():
    torch.manual_seed(0)
    x, y = make_data(600)
    order = torch.argsort(y)
    train = DataLoader(TensorDataset(x[order][:500], y[order][:500]), batch_size=50, shuffle=True)
    test = DataLoader(TensorDataset(x[500:]), batch_size=50)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 2))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(3):
        model.train()
        for xb, yb in train:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
    print("test positives:", predict(model, test).float().mean().item())


if __name__ == "__main__":
    main()
