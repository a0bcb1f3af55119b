"""A text-recognition predictor: the network comes from a factory out of sight, is wrapped in
`nn.DataParallel` and given trained weights, then predicts without `eval()`."""

import torch
from torch import nn

from ocrlib.networks import build_model


class RecInfer:
    def __init__(self, model_path: str, config: dict) -> None:
        ckpt = torch.load(model_path, map_location="cpu")
        self.model = build_model(config["model"])
        self.model = nn.DataParallel(self.model)
        self.model.load_state_dict(ckpt["state_dict"])

    def predict(self, image: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            out = self.model(image.unsqueeze(0))  # TL403
        return out.softmax(dim=2)
