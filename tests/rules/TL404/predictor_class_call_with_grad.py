"""A detector wrapper loads a TorchScript model, puts it in eval mode, and exposes
`__call__` for its users to run on each frame: every call records a graph nobody uses."""

import numpy as np
import torch


class Detector:
    def __init__(self, weights: str, device: str = "cpu") -> None:
        self._device = torch.device(device)
        self._model = torch.jit.load(weights, map_location=self._device)
        self._model.eval()

    def _preprocess(self, frame: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(frame).to(self._device).float().div(255.0).unsqueeze(0)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        outputs = self._model(self._preprocess(frame))[0]  # TL404
        return outputs.cpu().detach().numpy()
