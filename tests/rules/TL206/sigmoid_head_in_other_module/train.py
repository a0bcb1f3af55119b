"""An audio tagger from another module whose classifier ends in nn.Sigmoid, trained with
F.cross_entropy.
"""

import torch
import torch.nn.functional as F

from models import Tagger

model = Tagger()
s, t = torch.randn(4, 16, 20), torch.randint(0, 6, (4,))
loss = F.cross_entropy(model(s), t)  # TL206
