import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class ConvNet(nn.Module):
    def __init__(self, n_classes=4):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.25), nn.Linear(32, n_classes))

    def forward(self, x):
        return self.head(self.features(x))


class Trainer:
    def __init__(self, model, train_loader, val_loader, epochs=2, lr=0.05):
        self.model = model
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.epochs = epochs
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            self.optimizer, T_max=epochs * len(train_loader)
        )

    def _step(self, batch):
        images, labels = batch
        self.optimizer.zero_grad()
        loss = self.criterion(self.model(images), labels)
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), max_norm=2.0)
        self.optimizer.step()
        self.scheduler.step()
        return loss.item()

    def _validate(self):
        self.model.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in self.val_loader:
                correct += (self.model(images).argmax(1) == labels).sum().item()
        return correct / len(self.val_loader.dataset)

    def fit(self):
        for epoch in range(self.epochs):
            self.model.train()
            losses = [self._step(batch) for batch in self.train_loader]
            print(f"epoch {epoch}: loss {np.mean(losses):.4f} val acc {self._validate():.3f}")


def load_images(n, rng):
    labels = rng.integers(0, 4, n)
    pixels = rng.integers(0, 100, (n, 1, 12, 12)).astype(np.uint8)
    for k in range(4):
        pixels[labels == k, :, 3 * k:3 * k + 3, :] += 150
    images = torch.from_numpy(pixels).float() / 255.0
    return TensorDataset(images, torch.from_numpy(labels))


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    train = DataLoader(load_images(128, rng), batch_size=32, shuffle=True)
    val = DataLoader(load_images(64, rng), batch_size=64)
    Trainer(ConvNet(), train, val).fit()
