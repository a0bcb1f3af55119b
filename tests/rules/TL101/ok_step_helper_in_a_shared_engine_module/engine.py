"""The shared update step clears the gradients after the optimizer step."""

import torch


def step(model, optimizer, loss, max_norm=1.0):
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return norm
