"""Equalised learning rate (progressive GANs, StyleGAN): the weights are drawn at unit variance
and a forward pre-hook multiplies them by sqrt(2 / fan_in) at every call."""

import math

import torch.nn as nn


class EqualLR:
    def __init__(self, name: str) -> None:
        self.name = name

    def compute_weight(self, module: nn.Module):
        weight = getattr(module, self.name + "_orig")
        fan_in = weight.data.size(1) * weight.data[0][0].numel()
        return weight * math.sqrt(2 / fan_in)

    @staticmethod
    def apply(module: nn.Module, name: str) -> "EqualLR":
        fn = EqualLR(name)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_orig", nn.Parameter(weight.data))
        module.register_forward_pre_hook(fn)
        return fn

    def __call__(self, module: nn.Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def equal_lr(module: nn.Module, name: str = "weight") -> nn.Module:
    EqualLR.apply(module, name)
    return module


class EqualConv2d(nn.Module):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__()
        conv = nn.Conv2d(*args, **kwargs)
        conv.weight.data.normal_()
        conv.bias.data.zero_()
        self.conv = equal_lr(conv)

    def forward(self, x):
        return self.conv(x)
