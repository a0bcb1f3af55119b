"""torch.log of F.softmax."""

import torch
import torch.nn.functional as F

logits = torch.randn(4, 3)
log_probs = torch.log(F.softmax(logits, dim=1))  # TL208
