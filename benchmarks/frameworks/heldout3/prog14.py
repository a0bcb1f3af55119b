import math
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DEVICE = "cpu"
CFG = {
    "steps": 150,
    "batch_size": 64,
    "lr": 1e-3,
    "warmup": 15,
    "clip": 1.0,
    "n_classes": 5,
    "in_dim": 20,
}


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class MLPMixerBlock(nn.Module):
    def __init__(self, dim, expansion=2, p=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, dim * expansion), nn.GELU(), nn.Dropout(p),
                                nn.Linear(dim * expansion, dim))

    def forward(self, x):
        return x + self.ff(self.norm(x))


class Model(nn.Module):
    def __init__(self, in_dim, dim, n_classes, depth=2):
        super().__init__()
        self.embed = nn.Linear(in_dim, dim)
        self.blocks = nn.ModuleList([MLPMixerBlock(dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, x):
        x = self.embed(x)
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x))


def sample_batch(gen, batch_size, w):
    x = torch.randn(batch_size, w.shape[0], generator=gen)
    y = torch.argmax(F.gelu(x) @ w, dim=-1)
    return x.to(DEVICE), y.to(DEVICE)


def lr_at(step, cfg):
    if step < cfg["warmup"]:
        return (step + 1) / cfg["warmup"]
    progress = (step - cfg["warmup"]) / max(1, cfg["steps"] - cfg["warmup"])
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))


def main():
    seed_all(0)
    cfg = CFG
    w = torch.randn(cfg["in_dim"], cfg["n_classes"], generator=torch.Generator().manual_seed(7))
    train_gen = torch.Generator().manual_seed(1)
    val_batches = [sample_batch(torch.Generator().manual_seed(100 + i), 256, w) for i in range(2)]

    model = Model(cfg["in_dim"], 48, cfg["n_classes"]).to(DEVICE)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], betas=(0.9, 0.95), weight_decay=0.05)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_at(s, cfg))
    train_fn = torch.compile(model)

    model.train()
    for step in range(cfg["steps"]):
        x, y = sample_batch(train_gen, cfg["batch_size"], w)
        opt.zero_grad(set_to_none=True)
        logits = train_fn(x)
        loss = F.cross_entropy(logits, y, label_smoothing=0.05)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
        opt.step()
        sched.step()

        if step % 50 == 49:
            model.eval()
            with torch.inference_mode():
                acc = np.mean([(model(vx).argmax(-1) == vy).float().mean().item() for vx, vy in val_batches])
            model.train()
            print(f"step {step + 1:4d} loss {loss.item():.4f} gnorm {grad_norm.item():.3f} "
                  f"lr {sched.get_last_lr()[0]:.2e} val_acc {acc:.3f}")


if __name__ == "__main__":
    main()
