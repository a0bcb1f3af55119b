"""Knowledge distillation from a frozen teacher into a small student with PyTorch Lightning."""
import argparse

import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def make_dataset(n=1200, dim=16, n_classes=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=g)
    w = torch.randn(dim, n_classes, generator=g)
    y = (torch.tanh(x @ w) + 0.3 * torch.randn(n, n_classes, generator=g)).argmax(1)
    return x, y


class Teacher(nn.Module):
    def __init__(self, dim, n_classes):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, 256), nn.ReLU(), nn.Dropout(0.3),
                                 nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.3),
                                 nn.Linear(256, n_classes))

    def forward(self, x):
        return self.net(x)


class Student(nn.Module):
    def __init__(self, dim, n_classes):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, n_classes))

    def forward(self, x):
        return self.net(x)


def pretrain_teacher(teacher, loader, epochs=3):
    opt = torch.optim.Adam(teacher.parameters(), lr=1e-3)
    teacher.train()
    for _ in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            F.cross_entropy(teacher(x), y).backward()
            opt.step()
    return teacher


class DistillModule(L.LightningModule):
    def __init__(self, teacher, student, temperature=4.0, alpha=0.7, lr=3e-3):
        super().__init__()
        self.save_hyperparameters(ignore=["teacher", "student"])
        self.teacher = teacher
        self.student = student
        self.teacher.requires_grad_(False)

    def on_train_epoch_start(self):
        self.teacher.eval()

    def forward(self, x):
        return self.student(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        T = self.hparams.temperature
        with torch.no_grad():
            teacher_logits = self.teacher(x)
        student_logits = self.student(x)
        kd = F.kl_div(F.log_softmax(student_logits / T, dim=-1),
                      F.log_softmax(teacher_logits / T, dim=-1),
                      reduction="batchmean", log_target=True) * T * T
        ce = F.cross_entropy(student_logits, y)
        loss = self.hparams.alpha * kd + (1 - self.hparams.alpha) * ce
        self.log_dict({"kd": kd, "ce": ce, "loss": loss})
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        acc_s = (self.student(x).argmax(-1) == y).float().mean()
        acc_t = (self.teacher(x).argmax(-1) == y).float().mean()
        self.log_dict({"val_acc_student": acc_s, "val_acc_teacher": acc_t}, prog_bar=True)

    def configure_optimizers(self):
        return torch.optim.Adam(self.student.parameters(), lr=self.hparams.lr)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--temperature", type=float, default=4.0)
    args = parser.parse_args()

    L.seed_everything(10)
    x, y = make_dataset()
    train = TensorDataset(x[:1000], y[:1000])
    val = TensorDataset(x[1000:], y[1000:])
    train_loader = DataLoader(train, batch_size=50, shuffle=True)
    val_loader = DataLoader(val, batch_size=200)

    teacher = pretrain_teacher(Teacher(16, 5), train_loader)
    module = DistillModule(teacher, Student(16, 5), temperature=args.temperature)
    trainer = L.Trainer(
        max_epochs=args.epochs,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, train_loader, val_loader)
    print({k: round(float(v), 4) for k, v in trainer.callback_metrics.items()})


if __name__ == "__main__":
    main()
