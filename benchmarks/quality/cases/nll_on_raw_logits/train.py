import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, d_in, n_classes):
        super().__init__()
        self.fc1 = nn.Linear(d_in, 64)
        self.fc2 = nn.Linear(64, n_classes)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def main():
    torch.manual_seed(0)
    x = torch.randn(300, 20)
    y = torch.randint(0, 4, (300,))
    loader = DataLoader(TensorDataset(x, y), batch_size=30, shuffle=True)
    model = Net(20, 4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    criterion = nn.NLLLoss()
    for epoch in range(2):
        print(epoch, train_one_epoch(model, loader, optimizer, criterion))


if __name__ == "__main__":
    main()
