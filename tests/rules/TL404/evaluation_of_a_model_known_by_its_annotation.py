"""A method evaluates each freshly trained model it is handed (`model: nn.Module`, its class
unknown) on held-out data with gradients enabled: every batch records a graph that no
backward uses."""

import torch.nn as nn


class ShadowModels:
    def __init__(self, device: str, loader) -> None:
        self.device = device
        self.loader = loader

    def _eval_shadow_model(self, model: nn.Module, criterion: nn.Module) -> float:
        model.eval()
        model.to(self.device)
        total = 0.0
        for data, target in self.loader:
            output = model(data.to(self.device))  # TL404
            total += criterion(output, target.to(self.device)).item()
        return total / len(self.loader)
