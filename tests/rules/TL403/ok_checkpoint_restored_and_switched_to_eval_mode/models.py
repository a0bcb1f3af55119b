import torch

from registry import MODELS


def build_model(name: str) -> torch.nn.Module:
    return MODELS[name]()
