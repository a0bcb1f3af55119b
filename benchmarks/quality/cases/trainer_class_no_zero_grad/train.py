"""Small CNN trained through a Trainer object."""
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class SmallConvNet(nn.Module):
    def __init__(self, num_classes: int = 3) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.classifier = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.features(x)
        return self.classifier(torch.flatten(x, 1))


class Trainer:
    def __init__(self, model, train_loader, val_loader, lr=1e-3):
        self.model = model
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def _step(self, batch):
        images, labels = batch
        outputs = self.model(images)
        loss = self.criterion(outputs, labels)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    @torch.no_grad()
    def validate(self):
        self.model.eval()
        correct = total = 0
        for images, labels in self.val_loader:
            preds = self.model(images).argmax(dim=1)
            correct += (preds == labels).sum().item()
            total += labels.numel()
        return correct / total

    def fit(self, epochs):
        for epoch in range(epochs):
            self.model.train()
            losses = []
            for batch in self.train_loader:
                losses.append(self._step(batch))
            acc = self.validate()
            print(f"epoch {epoch} loss {sum(losses) / len(losses):.4f} val_acc {acc:.3f}")


def make_data(n):
    images = torch.randn(n, 1, 12, 12)
    labels = torch.randint(0, 3, (n,))
    return TensorDataset(images, labels)


if __name__ == "__main__":
    torch.manual_seed(0)
    train_loader = DataLoader(make_data(96), batch_size=32, shuffle=True)
    val_loader = DataLoader(make_data(64), batch_size=32)
    Trainer(SmallConvNet(), train_loader, val_loader).fit(epochs=2)
