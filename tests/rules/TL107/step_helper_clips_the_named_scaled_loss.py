"""A shared step helper keeps the scaled loss in a name before calling `backward()` on it,
then clips and hands the optimizer to the scaler: the clip sees gradients still multiplied by
the scale factor."""

import torch
import torch.nn as nn
from torch.amp import grad_scaler


def step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss: torch.Tensor,
    max_norm: float,
    scaler: grad_scaler.GradScaler | None = None,
) -> torch.Tensor:
    if scaler is not None:
        scaled_loss = scaler.scale(loss)
        scaled_loss.backward()
        grad_norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)  # TL107
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        grad_norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return grad_norm
