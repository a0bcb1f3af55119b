"""The fixed wrapper steps the optimizer first; a function that only resets the schedule
and the optimizer's state in branches that exclude each other orders nothing."""

import torch
import torch.nn as nn
import transformers


class OptimizerScheduler:
    def __init__(self, optimizer, scheduler):
        self.optimizer = optimizer
        self.scheduler = scheduler

    def step(self):
        self.optimizer.step()
        self.scheduler.step()

    def restart(self, warm: bool):
        if warm:
            self.scheduler.step()
        else:
            self.optimizer.step()


def create_optimizer(model: nn.Module, total_steps: int) -> OptimizerScheduler:
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    scheduler = transformers.get_linear_schedule_with_warmup(optimizer, 100, total_steps)
    return OptimizerScheduler(optimizer=optimizer, scheduler=scheduler)
