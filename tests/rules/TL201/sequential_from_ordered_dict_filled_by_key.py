"""A `Sequential` built from an `OrderedDict` filled key by key, some keys in a loop, ends with `nn.Softmax`."""
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self, n_in, n_out, depth=3):
        super().__init__()
        layers = OrderedDict()
        layers["input"] = nn.Linear(n_in, 32)
        layers["input_act"] = nn.ReLU()
        for i in range(depth - 2):
            layers[f"{i}_lin"] = nn.Linear(32, 32)
            layers[f"{i}_act"] = nn.ReLU()
        layers["out"] = nn.Linear(32, n_out)
        layers["probs"] = nn.Softmax(-1)  # TL201
        self.mlp = nn.Sequential(layers)

    def forward(self, x):
        return self.mlp(x)


model = MLP(4, 3)
optimizer = torch.optim.Adam(model.parameters())
for x, y in [(torch.randn(8, 4), torch.randint(0, 3, (8,)))]:
    loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
