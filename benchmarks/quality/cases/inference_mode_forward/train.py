import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(10, 40), nn.ReLU(), nn.Linear(40, 3))

    def forward(self, x):
        return self.layers(x)


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    for x, y in loader:
        with torch.inference_mode():
            logits = model(x)
        loss = criterion(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(150, 10), torch.randint(0, 3, (150,)))
    loader = DataLoader(data, batch_size=30, shuffle=True)
    model = Encoder()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(2):
        print(epoch, train_one_epoch(model, loader, optimizer, nn.CrossEntropyLoss()))


if __name__ == "__main__":
    main()
