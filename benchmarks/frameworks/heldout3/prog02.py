import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from lightning.fabric import Fabric


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--max-norm", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=42)
    return p.parse_args()


class SequenceClassifier(nn.Module):
    def __init__(self, vocab=50, dim=32, n_classes=3):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.conv = nn.Conv1d(dim, dim, kernel_size=3, padding=1)
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, tokens):
        h = self.emb(tokens)                       # B, T, D
        h = F.gelu(self.conv(h.transpose(1, 2))).transpose(1, 2)
        h = self.norm(h).mean(dim=1)
        return self.head(self.drop(h))


def synthetic_tokens(n, seq_len=24, vocab=50, seed=0):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, vocab, (n, seq_len), generator=g)
    # label: which third of the vocabulary dominates the sequence
    bucket = (tokens * 3) // vocab
    counts = torch.stack([(bucket == k).sum(dim=1) for k in range(3)], dim=1)
    return TensorDataset(tokens, counts.argmax(dim=1))


def evaluate(fabric, model, loader):
    model.eval()
    correct, total, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for tokens, labels in loader:
            logits = model(tokens)
            loss_sum += F.cross_entropy(logits, labels, reduction="sum").item()
            correct += (logits.argmax(-1) == labels).sum().item()
            total += labels.numel()
    model.train()
    return loss_sum / total, correct / total


def main():
    args = parse_args()
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(args.seed)

    train_loader = DataLoader(synthetic_tokens(1600, seed=1), batch_size=args.batch_size, shuffle=True)
    val_loader = DataLoader(synthetic_tokens(400, seed=2), batch_size=200)

    model = SequenceClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    total_steps = args.epochs * len(train_loader)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total_steps) / total_steps))
    )
    model, optimizer = fabric.setup(model, optimizer)
    train_loader, val_loader = fabric.setup_dataloaders(train_loader, val_loader)

    model.train()
    for epoch in range(args.epochs):
        running = 0.0
        for step, (tokens, labels) in enumerate(train_loader):
            optimizer.zero_grad(set_to_none=True)
            logits = model(tokens)
            loss = F.cross_entropy(logits, labels)
            fabric.backward(loss)
            fabric.clip_gradients(model, optimizer, max_norm=args.max_norm)
            optimizer.step()
            scheduler.step()
            running += loss.item()
        val_loss, val_acc = evaluate(fabric, model, val_loader)
        fabric.print(f"epoch {epoch} train {running / len(train_loader):.4f} "
                     f"val {val_loss:.4f} acc {val_acc:.3f}")


if __name__ == "__main__":
    main()
