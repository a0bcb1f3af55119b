import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from models import TinyResNet


def main():
    torch.manual_seed(0)
    images = torch.randn(64, 3, 8, 8)
    labels = torch.randint(0, 5, (64,))
    loader = DataLoader(TensorDataset(images, labels), batch_size=16, shuffle=True)
    model = TinyResNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        model.train()
        running = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            running += loss.item()
        print(f"epoch {epoch}: {running / len(loader):.4f}")


if __name__ == "__main__":
    main()
