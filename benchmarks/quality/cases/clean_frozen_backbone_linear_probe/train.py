"""Linear probe: features from a frozen encoder, only the head is trained."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())

    def forward(self, x):
        return self.net(x)


def main():
    torch.manual_seed(0)
    x = torch.randn(400, 32)
    y = torch.randint(0, 4, (400,))
    loader = DataLoader(TensorDataset(x, y), batch_size=40, shuffle=True)

    encoder = Encoder()  # stands in for a pretrained checkpoint
    encoder.eval()
    head = nn.Linear(64, 4)
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        head.train()
        correct = 0
        for xb, yb in loader:
            with torch.no_grad():
                features = encoder(xb)
            logits = head(features)
            loss = criterion(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            correct += (logits.argmax(1) == yb).sum().item()
        print(f"epoch {epoch}: loss {loss.item():.4f} acc {correct / 400:.3f}")


if __name__ == "__main__":
    main()
