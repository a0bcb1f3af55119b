"""A detection project saves whole modules on purpose: its loader takes the model out of a
checkpoint and uses it as a module (`ckpt["model"].float().eval()`). A second-stage
classifier elsewhere is restored with `load_state_dict`, which does not make the detector's
whole-module saves a mistake."""

import torch
import torch.nn as nn


def attempt_load(weights):
    ckpt = torch.load(weights, map_location="cpu")
    return ckpt["ema" if ckpt.get("ema") else "model"].float().eval()


def load_classifier(path):
    modelc = nn.Linear(8, 2)
    modelc.load_state_dict(torch.load(path)["model"])
    return modelc.eval()


model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
torch.save(model, "init.pt")
for epoch in range(2):
    optimizer.zero_grad()
    model(torch.randn(2, 3, 8, 8)).mean().backward()
    optimizer.step()
    torch.save({"epoch": epoch, "model": model}, "last.pt")
detector = attempt_load("last.pt")
