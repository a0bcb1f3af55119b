"""An epsilon keeps the log finite (written on purpose)."""

import torch
import torch.nn.functional as F

logits = torch.randn(4, 3)
probs = F.softmax(logits, dim=1)
entropy = -(probs * torch.log(probs + 1e-8)).sum(dim=1)
clamped = torch.log(probs.clamp(min=1e-6))
