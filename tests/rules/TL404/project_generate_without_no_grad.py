"""An evaluation loop decodes with the project model's own `generate`, which is not
decorated with `@torch.no_grad()`: every decoding step of every batch records a graph."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader


class Captioner(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 8)
        self.drop = nn.Dropout(0.1)

    def generate(self, images, max_new_tokens=20):
        out = images
        for _ in range(max_new_tokens):
            out = self.drop(self.proj(out))
        return out.argmax(-1)


def evaluate(model, loader):
    model.eval()
    answers = []
    for images in loader:
        answers.append(model.generate(images, max_new_tokens=5))  # TL404
    return answers


captioner = Captioner()
captioner.load_state_dict(torch.load("captioner.pth"))
loader = DataLoader(torch.randn(16, 8), batch_size=4)
evaluate(captioner, loader)

