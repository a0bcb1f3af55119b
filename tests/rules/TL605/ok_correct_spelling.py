import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
for p in model[0].parameters():
    p.requires_grad = False
model[2].weight.requires_grad = True
model[2].requires_grad_(True)
w = torch.randn(3, requires_grad=True)
optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
