"""Evaluation scripts that decode with `model.generate(...)`: a project model whose
`generate` is decorated with `@torch.no_grad()`, and a model from a registry out of sight
(Hugging Face's `generate` runs under `torch.no_grad()` itself)."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from project.registry import build_model


class Captioner(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 8)
        self.drop = nn.Dropout(0.1)

    @torch.no_grad()
    def generate(self, images, max_new_tokens=20):
        out = images
        for _ in range(max_new_tokens):
            out = self.drop(self.proj(out))
        return out.argmax(-1)


def evaluate(model, loader):
    model.eval()
    answers = []
    for images in loader:
        answers.append(model.generate(images, max_new_tokens=5))
    return answers


captioner = Captioner()
captioner.load_state_dict(torch.load("captioner.pth"))
loader = DataLoader(torch.randn(16, 8), batch_size=4)
evaluate(captioner, loader)

model = build_model("minigpt").to("cpu")
model.eval()
for images in DataLoader(torch.randn(16, 8), batch_size=4):
    print(model.generate(images, max_new_tokens=5))
