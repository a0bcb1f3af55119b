"""A TTS training loop stretches each batch of spectrograms in time with a small module built
under `torch.no_grad()`: it has no layer and no parameter, so there is nothing in it to train.
The networks trained are held in a dict and run with gradients on."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class TimeStretch(nn.Module):
    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=(1, self.scale), mode="bilinear").squeeze(1)


nets = {"encoder": nn.Conv1d(80, 80, 3, padding=1), "decoder": nn.Conv1d(80, 80, 3, padding=1)}
optimizer = torch.optim.Adam([p for net in nets.values() for p in net.parameters()], lr=1e-4)
for step in range(100):
    mels = torch.randn(4, 80, 64)
    with torch.no_grad():
        stretch = TimeStretch(1 + (np.random.random() - 0.5) * 0.25)
        mels = stretch(mels.unsqueeze(1))
    out = nets["decoder"](nets["encoder"](mels))
    loss = F.l1_loss(out, mels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
