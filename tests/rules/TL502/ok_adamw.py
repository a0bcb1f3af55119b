"""AdamW decouples the decay; Adam without decay; Adam told to decouple."""

import torch

model = torch.nn.Linear(4, 2)
a = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
b = torch.optim.Adam(model.parameters(), lr=1e-3)
c = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0.0)
d = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0.01, decoupled_weight_decay=True)
e = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=5e-4)
