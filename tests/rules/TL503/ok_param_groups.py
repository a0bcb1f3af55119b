"""Two parameter groups: decay on the weight matrices only (nanoGPT's and Hugging Face's way)."""

import torch
import torch.nn as nn


class TinyLM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.tok = nn.Embedding(1000, 64)
        self.norm = nn.LayerNorm(64)
        self.head = nn.Linear(64, 1000)

    def forward(self, ids):
        return self.head(self.norm(self.tok(ids)))


model = TinyLM()
decay = [p for p in model.parameters() if p.dim() >= 2]
no_decay = [p for p in model.parameters() if p.dim() < 2]
optimizer = torch.optim.AdamW(
    [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}], lr=3e-4
)
