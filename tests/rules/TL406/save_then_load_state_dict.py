"""Saved whole, loaded as a state dict: the load fails."""
import torch
import torch.nn as nn

CKPT = "best.pt"


def train(model):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(2, 8)).mean().backward()
    opt.step()
    torch.save(model, CKPT)  # TL406


def evaluate():
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
    model.load_state_dict(torch.load(CKPT))
    return model


train(nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1)))
