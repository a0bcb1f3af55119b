"""A vocoder's `generate` switches the model to eval mode and runs its sampling loop inside
its own `with torch.no_grad():` block, so a test-set loop that calls it once per clip records
no graph (and needs neither `no_grad` nor `eval()` of its own)."""

import torch
import torch.nn as nn


class Vocoder(nn.Module):
    def __init__(self, dim: int = 32) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(dim)
        self.cell = nn.GRUCell(dim, dim)
        self.out = nn.Linear(dim, 1)

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        return self.out(self.norm(mels))

    def generate(self, mels: torch.Tensor) -> torch.Tensor:
        self.eval()
        samples = []
        with torch.no_grad():
            hidden = torch.zeros(mels.size(0), mels.size(1))
            for t in range(mels.size(-1)):
                hidden = self.cell(self.norm(mels[..., t]), hidden)
                samples.append(self.out(hidden))
        return torch.cat(samples, dim=1)


def render_test_set(model: Vocoder, clips, limit: int) -> None:
    for i, (mels, _) in enumerate(clips, 1):
        if i > limit:
            break
        audio = model.generate(mels)  # ok: generate turns gradients off itself
        torch.save(audio, f"clip_{i}.pt")


def train(clips, epochs: int = 3) -> None:
    model = Vocoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        model.train()
        for mels, wave in clips:
            optimizer.zero_grad()
            nn.functional.l1_loss(model(mels[..., 0]), wave).backward()
            optimizer.step()
        render_test_set(model, clips, limit=2)
