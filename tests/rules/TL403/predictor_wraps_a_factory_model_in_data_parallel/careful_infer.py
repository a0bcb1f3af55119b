"""The same predictor, switching the restored network to eval mode in `__init__`."""

import torch
from torch import nn

from ocrlib.networks import build_model


class CarefulRecInfer:
    def __init__(self, model_path: str, config: dict) -> None:
        ckpt = torch.load(model_path, map_location="cpu")
        self.net = build_model(config["model"])
        self.net = nn.DataParallel(self.net)
        self.net.load_state_dict(ckpt["state_dict"])
        self.net.eval()

    def predict(self, image: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            out = self.net(image.unsqueeze(0))  # ok: eval mode set in __init__
        return out.softmax(dim=2)
