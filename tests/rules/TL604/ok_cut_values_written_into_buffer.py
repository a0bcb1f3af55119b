"""The same buffers, given cut copies or numbers: nothing keeps a graph."""
import torch
import torch.nn as nn


def train(model: nn.Module, loader, steps: int) -> None:
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    losses = torch.zeros((steps,))
    seen = [None] * steps
    idx = 0
    for x, y in loader:
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses[idx] = loss.detach()
        seen[idx] = loss.item()
        idx = (idx + 1) % steps
