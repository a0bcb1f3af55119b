"""An LR-finder range test that starts from a tiny rate on purpose."""

import torch.nn as nn
from torch import optim
from torch_lr_finder import LRFinder
model = nn.Linear(8, 2)

opt = optim.Adam(model.parameters(), lr=1e-7, weight_decay=1e-2)
finder = LRFinder(model, opt, nn.CrossEntropyLoss())
finder.range_test(loader, end_lr=100, num_iter=100)  # noqa: F821
