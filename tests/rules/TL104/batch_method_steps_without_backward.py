"""A framework's per-batch hook overridden to add learning-rate annealing: the override computes
the loss and steps the optimizer, but the backward the base class did is gone."""

import speechbrain as sb
import torch


class TTSBrain(sb.Brain):
    def compute_forward(self, batch, stage):
        inputs, _ = batch
        return self.modules.model(inputs)

    def compute_objectives(self, predictions, batch, stage):
        _, targets = batch
        return torch.nn.functional.mse_loss(predictions, targets)

    def fit_batch(self, batch):
        outputs = self.compute_forward(batch, sb.Stage.TRAIN)
        loss = self.compute_objectives(outputs, batch, sb.Stage.TRAIN)
        self.optimizer.step()  # TL104
        self.optimizer.zero_grad()
        self.hparams.lr_annealing(self.optimizer)
        return loss.detach().cpu()
