"""Image classification with HF Accelerate on synthetic 3x16x16 images."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from accelerate import Accelerator
from accelerate.utils import set_seed


class SmallConvNet(nn.Module):
    def __init__(self, num_classes=6):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(32, 64),
            nn.ReLU(),
            nn.Linear(64, num_classes),
            nn.ReLU(),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def synthetic_images(n, num_classes=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, num_classes, (n,), generator=g)
    prototypes = torch.randn(num_classes, 3, 16, 16, generator=torch.Generator().manual_seed(99))
    x = prototypes[y] + torch.randn(n, 3, 16, 16, generator=g)
    return TensorDataset(x, y)


def main():
    set_seed(0)
    accelerator = Accelerator(cpu=True)
    train_dl = DataLoader(synthetic_images(1024, seed=1), batch_size=32, shuffle=True)
    eval_dl = DataLoader(synthetic_images(256, seed=2), batch_size=64)

    model = SmallConvNet()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.05)
    model, optimizer, train_dl, eval_dl = accelerator.prepare(model, optimizer, train_dl, eval_dl)

    for epoch in range(3):
        model.train()
        for images, labels in train_dl:
            optimizer.zero_grad()
            outputs = model(images)
            loss = criterion(outputs, labels)
            accelerator.backward(loss)
            optimizer.step()

        model.eval()
        correct = total = 0
        for images, labels in eval_dl:
            with torch.no_grad():
                outputs = model(images)
            preds, refs = accelerator.gather_for_metrics((outputs.argmax(dim=-1), labels))
            correct += (preds == refs).sum().item()
            total += refs.numel()
        accelerator.print(f"epoch {epoch}: accuracy {correct / total:.3f}")


if __name__ == "__main__":
    main()
