from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset
from accelerate import Accelerator
from accelerate.utils import set_seed


@dataclass
class TrainConfig:
    seed: int = 3
    n_train: int = 1536
    n_eval: int = 256
    in_dim: int = 16
    n_classes: int = 4
    hidden: int = 64
    batch_size: int = 32
    grad_accum: int = 2
    lr: float = 1e-3
    weight_decay: float = 0.01
    epochs: int = 4
    max_grad_norm: float = 0.5
    warmup_steps: int = 10


class BlobDataset(Dataset):
    def __init__(self, n, in_dim, n_classes, seed):
        g = torch.Generator().manual_seed(seed)
        centers = torch.randn(n_classes, in_dim, generator=torch.Generator().manual_seed(100)) * 1.0
        self.labels = torch.randint(0, n_classes, (n,), generator=g)
        self.features = centers[self.labels] + torch.randn(n, in_dim, generator=g)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return {"features": self.features[idx], "labels": self.labels[idx]}


class MLP(nn.Module):
    def __init__(self, in_dim, hidden, n_classes):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(0.1),
            nn.Linear(hidden, hidden), nn.GELU(),
        )
        self.classifier = nn.Linear(hidden, n_classes)

    def forward(self, features):
        return self.classifier(self.body(features))


def build_scheduler(optimizer, warmup, total):
    def lr_lambda(step):
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)


def main(cfg: TrainConfig):
    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=cfg.grad_accum)
    set_seed(cfg.seed)

    train_ds = BlobDataset(cfg.n_train, cfg.in_dim, cfg.n_classes, seed=1)
    eval_ds = BlobDataset(cfg.n_eval, cfg.in_dim, cfg.n_classes, seed=2)
    train_dl = DataLoader(train_ds, batch_size=cfg.batch_size, shuffle=True)
    eval_dl = DataLoader(eval_ds, batch_size=128)

    model = MLP(cfg.in_dim, cfg.hidden, cfg.n_classes)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    total_updates = cfg.epochs * len(train_dl) // cfg.grad_accum
    scheduler = build_scheduler(optimizer, cfg.warmup_steps, total_updates)
    loss_fn = nn.CrossEntropyLoss()

    model, optimizer, train_dl, eval_dl, scheduler = accelerator.prepare(
        model, optimizer, train_dl, eval_dl, scheduler
    )

    for epoch in range(cfg.epochs):
        model.train()
        total_loss = 0.0
        for batch in train_dl:
            with accelerator.accumulate(model):
                logits = model(batch["features"])
                loss = loss_fn(logits, batch["labels"])
                accelerator.backward(loss)
                optimizer.step()
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
                scheduler.step()
                optimizer.zero_grad()
            total_loss += loss.detach().float().item()

        model.eval()
        correct = 0
        seen = 0
        for batch in eval_dl:
            with torch.no_grad():
                logits = model(batch["features"])
            preds, refs = accelerator.gather_for_metrics((logits.argmax(dim=-1), batch["labels"]))
            correct += (preds == refs).sum().item()
            seen += refs.numel()
        accelerator.print(f"epoch {epoch}: loss={total_loss / len(train_dl):.4f} acc={correct / seen:.3f}")


if __name__ == "__main__":
    main(TrainConfig())
