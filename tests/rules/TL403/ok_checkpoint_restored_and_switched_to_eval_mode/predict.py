"""The same inference done right, and two neighbours the rule leaves alone: a predictor that
switches its restored network to eval mode, a model from `from_pretrained` (Hugging Face
returns it in eval mode), and a fine-tuning script that restores a checkpoint to train on."""

import torch
from transformers import AutoModelForSequenceClassification

from models import build_model


class Predictor:
    def __init__(self, path: str) -> None:
        self.model = build_model("crnn")
        self.model.load_state_dict(torch.load(path, map_location="cpu"))
        self.model.eval()

    def predict(self, image: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.model(image.unsqueeze(0)).argmax(-1)  # ok: eval mode set in __init__


def classify(texts: torch.Tensor) -> torch.Tensor:
    model = AutoModelForSequenceClassification.from_pretrained("./classifier")
    with torch.no_grad():
        return model(texts).logits.argmax(-1)  # ok: from_pretrained returns eval mode
