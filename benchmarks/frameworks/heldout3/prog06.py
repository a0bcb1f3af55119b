"""Attention-pooled sequence classifier trained with torch.compile."""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class AttentionPool(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.score = nn.Linear(dim, 1)

    def forward(self, h):
        scores = self.score(torch.tanh(h))          # (B, T, 1)
        weights = F.softmax(scores)
        return (weights * h).sum(dim=1)


class SeqModel(nn.Module):
    def __init__(self, in_dim=8, dim=32, n_classes=3):
        super().__init__()
        self.inp = nn.Linear(in_dim, dim)
        self.mix = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.GELU())
        self.pool = AttentionPool(dim)
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, x):
        h = self.inp(x)
        h = h + self.mix(h)
        return self.head(self.drop(self.pool(h)))


def make_batches(n_batches, batch_size, seq_len=12, in_dim=8, n_classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(in_dim, n_classes, generator=torch.Generator().manual_seed(99))
    batches = []
    for _ in range(n_batches):
        x = torch.randn(batch_size, seq_len, in_dim, generator=g)
        y = (x.mean(dim=1) @ w + 0.2 * torch.randn(batch_size, n_classes, generator=g)).argmax(dim=1)
        batches.append((x, y))
    return batches


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    args = parser.parse_args()

    torch.manual_seed(0)
    model = SeqModel()
    compiled = torch.compile(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.steps)

    pool = make_batches(32, args.batch_size, seed=1)
    val = make_batches(4, args.batch_size, seed=2)

    t0 = time.time()
    model.train()
    for step in range(args.steps):
        x, y = pool[torch.randint(len(pool), (1,)).item()]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(compiled(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if (step + 1) % 40 == 0:
            model.eval()
            with torch.no_grad():
                correct = sum((model(vx).argmax(1) == vy).sum().item() for vx, vy in val)
            model.train()
            print(f"step {step + 1} loss {loss.item():.4f} "
                  f"val_acc {correct / (len(val) * args.batch_size):.3f} ({time.time() - t0:.1f}s)")


if __name__ == "__main__":
    main()
