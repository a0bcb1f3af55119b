"""The softmax bound to a name, then its log taken."""

import torch

logits = torch.randn(4, 3)
probs = torch.softmax(logits, dim=-1)
loss = -torch.log(probs).mean()  # TL208
