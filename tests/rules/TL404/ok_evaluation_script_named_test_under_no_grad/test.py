"""The same test script, with its loop under `torch.no_grad()`."""

import torch
from models import build_model

model = build_model("ntm")
model.load_state_dict(torch.load("model.pt"))

with torch.no_grad():
    for inputs, target in torch.load("episodes.pt"):
        output = model(inputs)
        accuracy = (output.round() == target).float().mean()
        print(accuracy.item())
