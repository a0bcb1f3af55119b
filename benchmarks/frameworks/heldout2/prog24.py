"""Bag-of-tokens classifier: torch.compile with float16 autocast and a GradScaler, CPU."""
import os
import tempfile

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

CFG = dict(vocab=200, seq=16, emb=48, hidden=96, classes=4, batch=64, epochs=3, lr=2e-3, clip=1.0)


class BagClassifier(nn.Module):
    def __init__(self, vocab, emb, hidden, classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.mlp = nn.Sequential(nn.Linear(emb, hidden), nn.GELU(), nn.LayerNorm(hidden),
                                 nn.Linear(hidden, classes))

    def forward(self, tokens):
        return self.mlp(self.embedding(tokens).mean(dim=1))


def build_loaders(cfg, seed=0):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, cfg["vocab"], (1280, cfg["seq"]), generator=g)
    labels = (tokens % cfg["classes"]).mode(dim=1).values
    train = TensorDataset(tokens[:1024], labels[:1024])
    val = TensorDataset(tokens[1024:], labels[1024:])
    return (DataLoader(train, batch_size=cfg["batch"], shuffle=True, drop_last=True),
            DataLoader(val, batch_size=cfg["batch"], drop_last=True))


def main():
    cfg = CFG
    torch.manual_seed(0)
    train_loader, val_loader = build_loaders(cfg)

    model = BagClassifier(cfg["vocab"], cfg["emb"], cfg["hidden"], cfg["classes"])
    model = torch.compile(model)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 12)

    for epoch in range(cfg["epochs"]):
        model.train()
        for tokens, labels in train_loader:
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=torch.float16):
                loss = criterion(model(tokens), labels)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
            scaler.step(optimizer)
            scaler.update()
        scheduler.step()

        model.eval()
        correct = total = 0
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.float16):
            for tokens, labels in val_loader:
                correct += (model(tokens).argmax(-1) == labels).sum().item()
                total += labels.numel()
        print(f"epoch {epoch}: loss {loss.item():.4f} val_acc {correct / total:.3f} "
              f"scale {scaler.get_scale():.0f} lr {scheduler.get_last_lr()[0]:.1e}")

    ckpt = {"model": model._orig_mod.state_dict(), "optimizer": optimizer.state_dict(),
            "scaler": scaler.state_dict(), "scheduler": scheduler.state_dict()}
    path = os.path.join(tempfile.mkdtemp(prefix="bag_"), "ckpt.pt")
    torch.save(ckpt, path)
    print("saved", path)


if __name__ == "__main__":
    main()
