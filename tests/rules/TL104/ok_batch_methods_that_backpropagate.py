"""Per-batch methods that do the whole update: the backward runs in the method itself or in a
helper it calls."""

import speechbrain as sb
import torch
import torch.nn as nn


class TTSBrain(sb.Brain):
    def compute_objectives(self, predictions, batch, stage):
        _, targets = batch
        return torch.nn.functional.mse_loss(predictions, targets)

    def fit_batch(self, batch):
        inputs, _ = batch
        loss = self.compute_objectives(self.modules.model(inputs), batch, sb.Stage.TRAIN)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()
        return loss.detach().cpu()


class Pix2Pix:
    def __init__(self) -> None:
        self.netG = nn.Conv2d(3, 3, 3, padding=1)
        self.optimizer_G = torch.optim.Adam(self.netG.parameters(), lr=2e-4)

    def set_input(self, a: torch.Tensor, b: torch.Tensor) -> None:
        self.real_A, self.real_B = a, b

    def backward_G(self) -> None:
        self.loss_G = nn.functional.l1_loss(self.netG(self.real_A), self.real_B)
        self.loss_G.backward()

    def optimize_parameters(self) -> None:
        self.optimizer_G.zero_grad()
        self.backward_G()
        self.optimizer_G.step()
