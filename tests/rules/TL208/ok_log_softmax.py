"""The log-space op itself."""

import torch
import torch.nn.functional as F

logits = torch.randn(4, 3)
log_probs = F.log_softmax(logits, dim=1)
log_p = F.logsigmoid(logits)
