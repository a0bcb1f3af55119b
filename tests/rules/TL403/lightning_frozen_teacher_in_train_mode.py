"""Distillation in Lightning: the Trainer puts the whole module, teacher included, in training
mode at each epoch, so the frozen teacher's dropout stays on while it makes the soft targets."""

import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F


class Distill(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.teacher = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 5))
        self.student = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 5))
        self.teacher.load_state_dict(torch.load("teacher.pt"))
        self.teacher.requires_grad_(False)

    def training_step(self, batch, batch_idx):
        x, y = batch
        with torch.no_grad():
            soft = self.teacher(x)  # TL403
        logits = self.student(x)
        kd = F.kl_div(F.log_softmax(logits, dim=-1), F.log_softmax(soft, dim=-1), reduction="batchmean", log_target=True)
        return kd + F.cross_entropy(logits, y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("teacher_acc", (self.teacher(x).argmax(-1) == y).float().mean())

    def configure_optimizers(self):
        return torch.optim.Adam(self.student.parameters(), lr=1e-3)
