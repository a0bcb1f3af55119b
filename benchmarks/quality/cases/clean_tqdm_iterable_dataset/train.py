"""Streaming training from an IterableDataset with a held-out evaluation set."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, IterableDataset, TensorDataset

try:
    from tqdm import tqdm
except ImportError:  # progress bars are optional
    def tqdm(iterable, **kwargs):
        return iterable


class SensorStream(IterableDataset):
    """Yields an endless-looking stream of readings; here capped at n samples."""

    def __init__(self, n, seed):
        self.n = n
        self.seed = seed

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed)
        for _ in range(self.n):
            x = torch.randn(6, generator=g)
            yield x, int(x[0] + 0.5 * x[1] > 0)


def main():
    torch.manual_seed(0)
    train_loader = DataLoader(SensorStream(320, seed=0), batch_size=32)
    hx = torch.randn(80, 6)
    hy = (hx[:, 0] + 0.5 * hx[:, 1] > 0).long()
    test_loader = DataLoader(TensorDataset(hx, hy), batch_size=40, shuffle=False)

    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        model.train()
        seen, running = 0, 0.0
        for xb, yb in tqdm(train_loader, desc=f"epoch {epoch}"):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            running += loss.item() * len(yb)
            seen += len(yb)
        model.eval()
        with torch.inference_mode():
            acc = sum((model(x).argmax(1) == y).sum().item() for x, y in test_loader) / len(hy)
        print(f"epoch {epoch}: loss {running / seen:.4f} test acc {acc:.3f}")


if __name__ == "__main__":
    main()
