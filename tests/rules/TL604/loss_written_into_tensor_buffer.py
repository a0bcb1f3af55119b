"""Per-step metrics written into tensors made before the loop: each write of a graph-carrying
loss is an autograd operation on the buffer, which then holds every iteration's graph."""
import torch
import torch.nn as nn


def train(model: nn.Module, loader, steps: int) -> None:
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    losses = torch.zeros((steps,))
    accuracies = torch.zeros((steps,))
    idx = 0
    for x, y in loader:
        logits = model(x)
        loss = nn.functional.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses[idx] = loss  # TL604
        accuracies[idx] = (logits.argmax(1) == y).float().mean()
        idx = (idx + 1) % steps
        if idx == 0:
            print(losses.mean().item(), accuracies.mean().item())
