"""A speech model's `generate` puts the model in eval mode and decodes frame after frame in its
own loop, without `no_grad`. A synthesis loop calls it once per batch. The defect is one: it is
reported at the decoding loop inside `generate`, not again at the caller, and the frames the
loop gathers for `torch.cat` are the result, not a running metric (no TL604 on them)."""

import torch
import torch.nn as nn


class Synthesizer(nn.Module):
    def __init__(self, dim: int = 16) -> None:
        super().__init__()
        self.encoder = nn.GRU(dim, dim, batch_first=True)
        self.decoder = nn.GRUCell(dim, dim)
        self.dropout = nn.Dropout(0.5)
        self.frame = nn.Linear(dim, dim)

    def forward(self, text: torch.Tensor) -> torch.Tensor:
        return self.frame(self.dropout(self.encoder(text)[0]))

    def generate(self, text: torch.Tensor, steps: int = 200) -> torch.Tensor:
        self.eval()
        memory = self.encoder(text)[0][:, -1]
        hidden = torch.zeros_like(memory)
        frames = []
        for _ in range(steps):
            hidden = self.decoder(memory, hidden)  # TL404
            frames.append(self.frame(self.dropout(hidden)))
        return torch.stack(frames, dim=1)


def synthesize(model: Synthesizer, batches) -> list:
    model.eval()
    spectrograms = []
    for text in batches:
        spectrograms.append(model.generate(text).cpu().numpy())  # ok: reported inside generate
    return spectrograms


model = Synthesizer()
model.load_state_dict(torch.load("synthesizer.pt"))
print(len(synthesize(model, torch.randn(4, 2, 10, 16))))
