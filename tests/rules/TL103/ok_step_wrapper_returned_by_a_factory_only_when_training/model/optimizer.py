"""A scheduled-optimizer wrapper whose method steps the wrapped optimizer, returned by a model
factory beside the model when training (and the model alone otherwise)."""

import torch


class ScheduledOptim:
    def __init__(self, model, lr):
        self._optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.current_step = 0

    def step_and_update_lr(self):
        self._update_learning_rate()
        self._optimizer.step()

    def zero_grad(self):
        self._optimizer.zero_grad()

    def _update_learning_rate(self):
        self.current_step += 1
        for g in self._optimizer.param_groups:
            g["lr"] = 1e-3 / self.current_step
