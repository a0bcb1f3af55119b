"""Before training, a sanity check runs forward and backward on the largest batches to see
whether they fit in memory, and throws the gradients away: an out-of-memory probe, not a
training loop that forgot its step."""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)


def scan_pessimistic_batches_for_oom(model, batches, optimizer):
    for batch in batches:
        loss = model(batch).pow(2).mean()
        loss.backward()
        optimizer.zero_grad()


scan_pessimistic_batches_for_oom(model, [torch.randn(512, 16), torch.randn(1024, 16)], optimizer)
