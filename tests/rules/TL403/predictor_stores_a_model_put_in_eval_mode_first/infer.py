"""Two predictor classes restore a network with batch norm: one puts it in eval mode under a
local name before storing it (`model.eval(); self.model = model`), the other never does."""

import torch

from net import E2E


class Predictor:
    def __init__(self, path: str, device: str = "cpu") -> None:
        model = E2E()
        model.load_state_dict(torch.load(path, map_location=device))
        model = model.to(device)
        model.eval()
        self.model = model

    def __call__(self, mel: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.model(mel)  # ok: put in eval mode in __init__


class Careless:
    def __init__(self, path: str) -> None:
        model = E2E()
        model.load_state_dict(torch.load(path))
        self.model = model

    def __call__(self, mel: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.model(mel)  # TL403
