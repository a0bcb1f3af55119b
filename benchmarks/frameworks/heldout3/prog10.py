import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from accelerate import Accelerator
from accelerate.utils import set_seed

SIZE = 16
N_CLASSES = 3


def render_shapes(n, seed):
    """Bars: horizontal, vertical or diagonal strokes on noisy 8-bit canvases."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, size=(n, SIZE, SIZE)).astype(np.uint8)
    labels = rng.integers(0, N_CLASSES, size=n)
    for i, lab in enumerate(labels):
        k = rng.integers(3, SIZE - 3)
        if lab == 0:
            images[i, k, 2:-2] = 230
        elif lab == 1:
            images[i, 2:-2, k] = 230
        else:
            idx = np.arange(2, SIZE - 2)
            images[i, idx, idx] = 230
    return images, labels


class ShapeDataset(Dataset):
    def __init__(self, n, seed):
        self.images, self.labels = render_shapes(n, seed)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image = torch.from_numpy(self.images[idx]).float().unsqueeze(0)
        return image, int(self.labels[idx])


class ShapeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 4 * 4, N_CLASSES)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


def run(epochs=3, batch_size=32, lr=5e-4, accum=2):
    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=accum)
    set_seed(11)
    train_dl = DataLoader(ShapeDataset(768, seed=0), batch_size=batch_size, shuffle=True)
    eval_dl = DataLoader(ShapeDataset(240, seed=1), batch_size=120)
    model = ShapeNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * len(train_dl) // accum)
    model, optimizer, train_dl, eval_dl, scheduler = accelerator.prepare(
        model, optimizer, train_dl, eval_dl, scheduler)

    for epoch in range(epochs):
        model.train()
        losses = []
        for images, labels in train_dl:
            with accelerator.accumulate(model):
                loss = F.cross_entropy(model(images), labels)
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            losses.append(loss.item())

        model.eval()
        hits = total = 0
        with torch.inference_mode():
            for images, labels in eval_dl:
                preds = model(images).argmax(dim=-1)
                preds, labels = accelerator.gather_for_metrics((preds, labels))
                hits += (preds == labels).sum().item()
                total += labels.numel()
        accelerator.print(f"epoch {epoch} loss {np.mean(losses):.4f} acc {hits / total:.3f}")


if __name__ == "__main__":
    run()
