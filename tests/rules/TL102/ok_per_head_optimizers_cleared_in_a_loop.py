"""A shared encoder with one small head per task: each head's optimizer is cleared, its loss
backpropagated and the head stepped inside the loop over heads, and the encoder's optimizer
(cleared once per batch) steps after the loop on the sum of all heads' gradients."""

import torch
import torch.nn as nn

encoder = nn.Sequential(nn.Linear(16, 32), nn.ReLU())
heads = {name: nn.Linear(32, 1) for name in ("pitch", "energy", "voicing")}
encoder_opt = torch.optim.Adam(encoder.parameters(), lr=1e-3)
head_opts = {name: torch.optim.Adam(head.parameters(), lr=1e-3) for name, head in heads.items()}

for _ in range(10):
    x = torch.randn(8, 16)
    targets = {name: torch.randn(8, 1) for name in heads}
    encoder_opt.zero_grad()
    h = encoder(x)
    for name, head in heads.items():
        head_opts[name].zero_grad()
        loss = nn.functional.mse_loss(head(h), targets[name])
        loss.backward(retain_graph=True)
        head_opts[name].step()
    encoder_opt.step()
