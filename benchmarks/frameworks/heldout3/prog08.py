import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from lightning.fabric import Fabric

HPARAMS = dict(epochs=4, batch_size=32, lr=1e-3, weight_decay=1e-4, clip=2.0, seed=17)


class SmallConvNet(nn.Module):
    def __init__(self, n_classes=4):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        )
        self.fc = nn.Linear(16, n_classes)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


def make_images(n, seed, size=12, n_classes=4):
    """Gaussian blobs in one of four quadrants; label = quadrant."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, n_classes, (n,), generator=g)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    cy = torch.where(labels // 2 == 0, 3.0, 8.0) + torch.randn(n, generator=g) * 0.5
    cx = torch.where(labels % 2 == 0, 3.0, 8.0) + torch.randn(n, generator=g) * 0.5
    img = torch.exp(-((yy - cy[:, None, None]) ** 2 + (xx - cx[:, None, None]) ** 2) / 6.0)
    img = img + 0.3 * torch.randn(n, size, size, generator=g)
    img = (img - img.mean()) / img.std()
    return TensorDataset(img.unsqueeze(1), labels)


class Runner:
    def __init__(self, fabric, hp):
        self.fabric = fabric
        self.hp = hp
        model = SmallConvNet()
        optimizer = torch.optim.Adam(model.parameters(), lr=hp["lr"], weight_decay=hp["weight_decay"])
        self.model, self.optimizer = fabric.setup(model, optimizer)
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=2, gamma=0.5)

    def train_epoch(self, loader):
        self.model.train()
        total = 0.0
        for images, labels in loader:
            self.optimizer.zero_grad()
            loss = F.cross_entropy(self.model(images), labels)
            self.fabric.backward(loss)
            self.fabric.clip_gradients(self.model, self.optimizer, max_norm=self.hp["clip"])
            self.optimizer.step()
            total += loss.item()
        self.scheduler.step()
        return total / len(loader)

    def evaluate(self, loader):
        self.model.eval()
        n_correct, n_seen, loss_sum = 0, 0, 0.0
        for images, labels in loader:
            logits = self.model(images)
            loss_sum += F.cross_entropy(logits, labels, reduction="sum").item()
            n_correct += (logits.argmax(dim=1) == labels).sum().item()
            n_seen += labels.size(0)
        self.model.train()
        return loss_sum / n_seen, n_correct / n_seen


def main(hp):
    fabric = Fabric(accelerator="cpu", devices=1, precision="32-true")
    fabric.launch()
    fabric.seed_everything(hp["seed"])
    train_loader = DataLoader(make_images(1024, seed=1), batch_size=hp["batch_size"], shuffle=True)
    val_loader = DataLoader(make_images(256, seed=2), batch_size=64)
    train_loader, val_loader = fabric.setup_dataloaders(train_loader, val_loader)

    runner = Runner(fabric, hp)
    for epoch in range(hp["epochs"]):
        train_loss = runner.train_epoch(train_loader)
        val_loss, val_acc = runner.evaluate(val_loader)
        fabric.print(f"epoch={epoch} train_loss={train_loss:.4f} val_loss={val_loss:.4f} val_acc={val_acc:.3f}")


if __name__ == "__main__":
    main(HPARAMS)
