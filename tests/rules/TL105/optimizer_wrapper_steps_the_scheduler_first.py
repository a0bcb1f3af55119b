"""An object bundles the optimizer and its warm-up schedule; its `step()`, called once per
training step by a runner elsewhere, advances the schedule before the optimizer."""

import torch
import torch.nn as nn
import transformers


class OptimizerScheduler:
    def __init__(self, optimizer, scheduler):
        self.optimizer = optimizer
        self.scheduler = scheduler

    def step(self):
        self.scheduler.step()  # TL105
        self.optimizer.step()


def create_optimizer(model: nn.Module, total_steps: int) -> OptimizerScheduler:
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    scheduler = transformers.get_linear_schedule_with_warmup(optimizer, 100, total_steps)
    return OptimizerScheduler(optimizer=optimizer, scheduler=scheduler)
