import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def reset_grads(model):
    for p in model.parameters():
        p.grad = None


def apply_update(optimizer, scheduler, model, max_norm=1.0):
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    scheduler.step()


def main():
    torch.manual_seed(0)
    x = torch.randn(256, 10)
    y = x @ torch.randn(10, 3)
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    model = nn.Sequential(nn.Linear(10, 48), nn.Tanh(), nn.Linear(48, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=2 * len(loader))
    criterion = nn.MSELoss()
    for epoch in range(2):
        model.train()
        total = 0.0
        for xb, yb in loader:
            reset_grads(model)
            loss = criterion(model(xb), yb)
            loss.backward()
            apply_update(optimizer, scheduler, model)
            total += loss.item()
        print(f"epoch {epoch}: {total / len(loader):.4f}")


if __name__ == "__main__":
    main()
