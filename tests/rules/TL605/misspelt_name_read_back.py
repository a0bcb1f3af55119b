"""The misspelt flag is set and read back: still nothing frozen (no automatic fix)."""
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
for p in model[0].parameters():
    p.require_grad = False  # TL605
trainable = [p for p in model.parameters() if p.require_grad]
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
