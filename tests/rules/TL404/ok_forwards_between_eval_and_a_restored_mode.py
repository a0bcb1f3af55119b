"""Three functions that put a model in eval mode around a single forward and are not a
validation helper run call after call: one hands back whatever mode the model came in with
(`train(was_training)`, or `train()` only if it was training), one counts operations on a
random input, and a module's `forward` evaluates a part of itself inside its callers' graph."""

import torch
import torch.nn as nn


def logits_for_checkpoint_check(model: nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    was_training = model.training
    model.eval()
    logits = model(tokens)  # ok: the mode is restored only if it was training
    if was_training:
        model.train()
    return logits.detach().cpu()


def count_flops(model: nn.Module, input_size=(1, 3, 224, 224)) -> int:
    default_mode = model.training
    model.eval()
    x = torch.rand(input_size)
    flops = sum(p.numel() for p in model.parameters()) * x.numel()
    out = model(x)  # ok: a probe on a random input
    model.train(default_mode)
    return flops + out.numel()


class HeteroskedasticNoise(nn.Module):
    def __init__(self, noise_model: nn.Module) -> None:
        super().__init__()
        self.noise_model = noise_model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.noise_model.eval()
        out = self.noise_model(x)  # ok: part of this module's own forward
        self.noise_model.train()
        return out.exp()
