import torch

from registry import MODELS


def build_model(name: str) -> torch.nn.Module:
    return MODELS[name]()


def load_checkpoint(net: torch.nn.Module, filename: str) -> None:
    net.load_state_dict(torch.load(filename, map_location="cpu")["model"])
