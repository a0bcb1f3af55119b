"""A retrieval model freezes its pretrained image encoder the BLIP-2 way: the encoder is put
in eval mode and its `train` method is replaced by a no-op, so no later `.train()` switches
it back. The evaluation loop that encodes the gallery then runs it in eval mode."""

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
    visual_encoder = visual_encoder.eval()
    visual_encoder.train = disabled_train
    return visual_encoder, nn.LayerNorm(8)


def evaluate(visual_encoder, gallery):
    feats = []
    with torch.no_grad():
        for images in gallery:
            feats.append(visual_encoder(images))
    return torch.cat(feats)


encoder, ln_vision = init_vision_encoder()
print(evaluate(encoder, [torch.randn(2, 8) for _ in range(3)]).shape)
