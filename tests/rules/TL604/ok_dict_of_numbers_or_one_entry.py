"""Per-step numbers in a dict, and one entry overwritten each step: nothing grows."""
import torch
import torch.nn as nn


def train(model: nn.Module, loader, epochs: int) -> None:
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    step = 0
    last = {}
    for epoch in range(epochs):
        step_loss_log = {}
        for batch in loader:
            loss = model(batch).mean()
            loss.backward()
            opt.step()
            opt.zero_grad()
            step_loss_log[step] = loss.item()
            last["loss"] = loss
            step += 1
        print(epoch, last, step_loss_log)
