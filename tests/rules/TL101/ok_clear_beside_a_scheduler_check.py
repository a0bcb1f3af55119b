"""The clear after the step sits beside the scheduler, under the step's own test: after every
update the gradients are cleared (on every batch but the first, which the clear before the
step covers)."""

import torch


class Learner(torch.nn.Module):
    def __init__(self, net, accumulation_steps=1, scheduler=None):
        super().__init__()
        self.net = net
        self.accumulation_steps = accumulation_steps
        self.optimizer = torch.optim.AdamW(self.parameters(), lr=3e-4)
        self.scheduler = scheduler
        self.batch_index = 0

    def train_one_step(self, inputs, targets):
        if self.accumulation_steps == 1 and self.batch_index == 0:
            self.zero_grad()
        loss = torch.nn.functional.mse_loss(self.net(inputs), targets) / self.accumulation_steps
        loss.backward()
        if (self.batch_index + 1) % self.accumulation_steps == 0:
            self.optimizer.step()
            if self.scheduler:
                self.scheduler.step()
            if self.batch_index > 0:
                self.zero_grad()
        return loss

    def fit(self, loader, epochs):
        for _ in range(epochs):
            for self.batch_index, (inputs, targets) in enumerate(loader):
                self.train_one_step(inputs, targets)
