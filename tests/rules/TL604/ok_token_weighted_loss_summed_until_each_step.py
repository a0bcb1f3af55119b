"""Gradient accumulation over token-weighted micro-batches: each micro-batch's loss is
backpropagated at once and also added to `running_loss`, which the step all-reduces and logs,
then sets back to zero. The sum spans one optimizer step, not the epoch."""

import torch
import torch.distributed as dist
import torch.nn as nn

model = nn.Linear(32, 100)
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
accumulation = 8
loader = torch.load("token_batches.pt")

running_loss = 0
num_tokens = 0
for index, batch in enumerate(loader):
    tokens = (batch["labels"] != -100).sum()
    num_tokens += tokens
    loss = nn.functional.cross_entropy(model(batch["inputs"]), batch["labels"]) * tokens
    running_loss += loss  # ok: reset at every optimizer step below
    loss.backward()
    if (index + 1) % accumulation == 0:
        dist.all_reduce(running_loss)
        for p in model.parameters():
            p.grad.div_(num_tokens)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        print(running_loss.item() / num_tokens)
        running_loss = 0
        num_tokens = 0
