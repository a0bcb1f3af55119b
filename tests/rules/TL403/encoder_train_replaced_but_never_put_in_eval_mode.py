"""The BLIP-2 freeze without its first half: the encoder's `train` is replaced by a no-op but
it is never put in eval mode, so it stays in training mode for good, and the evaluation
loop that encodes the gallery runs its dropout."""

import torch
import torch.nn as nn


def disabled_train(self, mode=True):
    """Overwrites `model.train` so that the mode never changes."""
    return self


class VisionEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 8)
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        return self.drop(self.proj(x))


def init_vision_encoder():
    visual_encoder = VisionEncoder()
    visual_encoder.load_state_dict(torch.load("eva_vit.pth"))
    visual_encoder.train = disabled_train
    return visual_encoder, nn.LayerNorm(8)


def evaluate(visual_encoder, gallery):
    feats = []
    with torch.no_grad():
        for images in gallery:
            feats.append(visual_encoder(images))  # TL403
    return torch.cat(feats)


encoder, ln_vision = init_vision_encoder()
print(evaluate(encoder, [torch.randn(2, 8) for _ in range(3)]).shape)
