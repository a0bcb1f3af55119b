"""softmax imported from torch.nn.functional by name and called without dim."""

import torch
from torch.nn.functional import softmax

probs = softmax(torch.randn(2, 3))  # TL207
