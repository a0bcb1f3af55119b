"""An evaluation that runs an autoregressive generation method of the model under no_grad,
so no step keeps a graph."""

import torch
import torch.nn as nn


class Vocoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 8, 3, padding=1)
        self.drop = nn.Dropout(0.1)
        self.out = nn.Conv1d(8, 1, 1)

    def forward(self, x):
        return self.out(self.drop(torch.relu(self.conv(x))))

    def incremental_forward(self, first, steps):
        x, outputs = first, []
        for _ in range(steps):
            x = self.out(torch.relu(self.conv(x)))
            outputs.append(x)
        return torch.cat(outputs, dim=-1)


def eval_model(model, first):
    model.eval()
    with torch.no_grad():
        audio = model.incremental_forward(first, steps=100)
    model.train()
    return audio.cpu().numpy()


model = Vocoder()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for step in range(10):
    x = torch.randn(4, 1, 64)
    optimizer.zero_grad()
    loss = (model(x) - x).pow(2).mean()
    loss.backward()
    optimizer.step()
    if step % 5 == 0:
        eval_model(model, torch.zeros(1, 1, 1))
