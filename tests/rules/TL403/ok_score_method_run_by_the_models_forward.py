"""A score-based diffusion model: `score` (a name that elsewhere means evaluation) runs the
denoiser, and the model's own `forward` calls it to compute the denoising score-matching loss
that training differentiates; a sampler also calls it, after switching the model to eval mode.
The score is the model's output, not an evaluation of it."""

import torch
import torch.nn as nn


class Denoiser(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(17, 64), nn.SiLU(), nn.Dropout(0.1), nn.Linear(64, 16))

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([y, t[:, None]], dim=1))


class ScoreMatchingSDE(nn.Module):
    def __init__(self, denoiser: nn.Module) -> None:
        super().__init__()
        self.denoiser = denoiser

    def score(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.denoiser(t, y)  # ok: the model's output, trained through `forward`

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        t = torch.rand(x0.shape[0])
        noise = torch.randn_like(x0)
        x_t = x0 * (1 - t)[:, None] + noise * t[:, None]
        return ((self.score(t, x_t) + noise) ** 2).mean()


class ReverseSampler(nn.Module):
    def __init__(self, module: ScoreMatchingSDE) -> None:
        super().__init__()
        self.module = module

    def drift(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return -self.module.score(t, y)

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        self.module.eval()
        y = torch.randn(n, 16)
        return y + self.drift(torch.ones(n), y)


def train(denoiser: nn.Module, steps: int) -> None:
    model = ScoreMatchingSDE(denoiser=denoiser)
    sampler = ReverseSampler(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for step in range(steps):
        model.train()
        optimizer.zero_grad()
        loss = model(torch.randn(32, 16))
        loss.backward()
        optimizer.step()
        if step % 50 == 0:
            print(sampler.sample(8).mean())


train(Denoiser(), 100)
