"""Temperature scaling fitted with an NLL loss on the scaled logits themselves: the function
is handed the logits by callers out of sight, and nothing turns them into log-probabilities."""

import torch
from torch.nn.functional import nll_loss


class TemperatureScaling:
    def __init__(self):
        self.t = torch.nn.Parameter(torch.ones(1))

    def fit(self, logits: torch.Tensor, labels: torch.Tensor, steps: int = 100):
        optimizer = torch.optim.LBFGS([self.t], lr=0.01)

        def closure():
            optimizer.zero_grad()
            loss = nll_loss(logits / self.t, labels)  # TL204
            loss.backward()
            return loss

        for _ in range(steps):
            optimizer.step(closure)
        return self
