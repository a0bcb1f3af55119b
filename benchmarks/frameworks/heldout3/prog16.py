import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from accelerate import Accelerator
from accelerate.utils import set_seed

MEAN, STD = 0.2, 0.3


class StripeImages(Dataset):
    """8-bit grayscale images with a stripe pattern whose period is the class."""

    def __init__(self, n, seed, size=16):
        rng = np.random.default_rng(seed)
        self.labels = rng.integers(0, 4, size=n)
        xs = np.arange(size)
        imgs = []
        for lab in self.labels:
            period = 2 + 2 * lab
            phase = rng.integers(0, period)
            row = ((xs + phase) % period < period // 2).astype(np.float32)
            img = np.tile(row, (size, 1)) * 160 + rng.normal(0, 30, (size, size))
            imgs.append(np.clip(img, 0, 255).astype(np.uint8))
        self.images = np.stack(imgs)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        x = torch.from_numpy(self.images[i]).float().div(255.0)
        x = (x - MEAN) / STD
        return {"pixel_values": x.unsqueeze(0), "labels": torch.tensor(self.labels[i])}


class TinyResNet(nn.Module):
    def __init__(self, n_classes=4, width=16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.block = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
        )
        self.head = nn.Linear(width, n_classes)

    def forward(self, pixel_values):
        h = self.stem(pixel_values)
        h = F.relu(h + self.block(h))
        return self.head(F.adaptive_avg_pool2d(h, 1).flatten(1))


@torch.no_grad()
def evaluate(accelerator, model, loader):
    model.eval()
    correct = torch.tensor(0)
    count = torch.tensor(0)
    for batch in loader:
        preds = model(batch["pixel_values"]).argmax(dim=-1)
        preds, labels = accelerator.gather_for_metrics((preds, batch["labels"]))
        correct += (preds == labels).sum()
        count += labels.numel()
    model.train()
    return (correct / count).item()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--grad-accum", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    args = p.parse_args()

    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=args.grad_accum)
    set_seed(21)
    train_dl = DataLoader(StripeImages(768, seed=0), batch_size=args.batch_size, shuffle=True, drop_last=True)
    eval_dl = DataLoader(StripeImages(256, seed=1), batch_size=128)
    model = TinyResNet()
    decay = [p_ for n, p_ in model.named_parameters() if p_.ndim > 1]
    no_decay = [p_ for n, p_ in model.named_parameters() if p_.ndim <= 1]
    optimizer = torch.optim.AdamW([
        {"params": decay, "weight_decay": 0.05},
        {"params": no_decay, "weight_decay": 0.0},
    ], lr=args.lr)
    num_updates = args.epochs * len(train_dl) // args.grad_accum
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=num_updates)

    model, optimizer, train_dl, eval_dl = accelerator.prepare(model, optimizer, train_dl, eval_dl)

    model.train()
    for epoch in range(args.epochs):
        epoch_loss = 0.0
        for batch in train_dl:
            with accelerator.accumulate(model):
                logits = model(batch["pixel_values"])
                loss = F.cross_entropy(logits, batch["labels"])
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(model.parameters(), max_norm=1.0)
                    optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad()
            epoch_loss += loss.item()
        acc = evaluate(accelerator, model, eval_dl)
        accelerator.print(f"epoch {epoch}: train_loss={epoch_loss / len(train_dl):.4f} eval_acc={acc:.3f}")


if __name__ == "__main__":
    main()
