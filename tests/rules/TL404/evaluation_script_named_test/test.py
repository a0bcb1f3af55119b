"""A script named for testing: it restores a model built by a factory out of sight and runs
it over the test episodes at its top level, with gradients on."""

import torch
from models import build_model

model = build_model("ntm")
model.load_state_dict(torch.load("model.pt"))

for inputs, target in torch.load("episodes.pt"):
    output = model(inputs)  # TL404
    accuracy = (output.round() == target).float().mean()
    print(accuracy.item())
