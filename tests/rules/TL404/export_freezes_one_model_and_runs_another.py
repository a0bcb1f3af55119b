"""An export script that freezes every parameter of one model before running its speaker-mix
loop (no graph is recorded: nothing requires a gradient), then runs another model it did not
freeze."""

import torch
import torch.nn as nn


class Synthesizer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.speaker = nn.Embedding(8, 16)
        self.decoder = nn.Sequential(nn.Linear(16, 32), nn.Dropout(0.1), nn.Linear(32, 1))

    def forward(self, sid: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.speaker(sid))


def export(path: str, other_path: str) -> None:
    model = Synthesizer()
    model.load_state_dict(torch.load(path))
    model.eval()
    for p in model.parameters():
        p.requires_grad = False
    mixes = []
    for sid in range(8):
        mixes.append(model(torch.tensor([sid])))  # ok: every parameter frozen
    other = Synthesizer()
    other.load_state_dict(torch.load(other_path))
    other.eval()
    for p in model.parameters():
        p.requires_grad = False
    previews = []
    for sid in range(8):
        previews.append(other(torch.tensor([sid])))  # TL404
    torch.save({"mixes": torch.cat(mixes), "previews": torch.cat(previews)}, "export.pt")
