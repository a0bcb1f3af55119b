"""A whole-module save with nothing loading it here: an inference script elsewhere may load it whole."""
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
model(torch.randn(8, 4)).sum().backward()
optimizer.step()
torch.save(model, "model_epoch_1.pth")
