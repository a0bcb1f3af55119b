"""x.sigmoid().log()."""

import torch

scores = torch.randn(8)
log_p = scores.sigmoid().log()  # TL208
