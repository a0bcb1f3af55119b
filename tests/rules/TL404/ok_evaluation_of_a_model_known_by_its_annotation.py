"""A method evaluates each model it is handed (`model: nn.Module`) on held-out data, under
`torch.no_grad()`."""

import torch
import torch.nn as nn


class ShadowModels:
    def __init__(self, device: str, loader) -> None:
        self.device = device
        self.loader = loader

    def _eval_shadow_model(self, model: nn.Module, criterion: nn.Module) -> float:
        model.eval()
        model.to(self.device)
        total = 0.0
        with torch.no_grad():
            for data, target in self.loader:
                output = model(data.to(self.device))
                total += criterion(output, target.to(self.device)).item()
        return total / len(self.loader)
