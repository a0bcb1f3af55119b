"""AdamW decays by default: its 0.01 reaches the LayerNorm and the embedding."""

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
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)  # TL503
