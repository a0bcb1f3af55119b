"""A dict made before the epoch's loop keeps each step's loss tensor under a new key: every
step's graph stays alive until the epoch ends."""
import torch
import torch.nn as nn


def train(model: nn.Module, loader, epochs: int) -> None:
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    step = 0
    for epoch in range(epochs):
        step_loss_log = {}
        for batch in loader:
            loss = model(batch).mean()
            loss.backward()
            opt.step()
            opt.zero_grad()
            step_loss_log[step] = loss  # TL604
            step += 1
        print(epoch, sum(float(v) for v in step_loss_log.values()))
