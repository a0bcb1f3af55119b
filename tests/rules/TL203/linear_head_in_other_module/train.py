"""A click model from another module ends in a plain nn.Linear; its raw scores go to
F.binary_cross_entropy, which expects probabilities.
"""

import torch
import torch.nn.functional as F

from models import ClickModel

model = ClickModel()
items, clicked = torch.randn(8, 6), torch.rand(8).round()
pred = model(items)
loss = F.binary_cross_entropy(pred, clicked)  # TL203
