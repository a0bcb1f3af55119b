"""The generator's optimizer holds the parameters of two of its parts, with two learning rates;
clearing the whole (data-parallel) generator clears both parts."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class StyledGenerator(nn.Module):
    def __init__(self, dim: int = 64) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(dim, 128), nn.ReLU(), nn.Linear(128, 3 * 16 * 16))
        self.style = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.body(self.style(z))).view(-1, 3, 16, 16)


def train(loader, generator, discriminator, g_optimizer, d_optimizer, n_critic: int = 2) -> None:
    for i, real in enumerate(loader):
        discriminator.zero_grad()
        fake = generator(torch.randn(real.size(0), 64))
        d_loss = F.softplus(discriminator(fake.detach())).mean() + F.softplus(-discriminator(real)).mean()
        d_loss.backward()
        d_optimizer.step()
        if (i + 1) % n_critic == 0:
            generator.zero_grad()
            g_loss = F.softplus(-discriminator(generator(torch.randn(real.size(0), 64)))).mean()
            g_loss.backward()
            g_optimizer.step()


if __name__ == "__main__":
    generator = nn.DataParallel(StyledGenerator())
    discriminator = nn.DataParallel(nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 1)))
    g_optimizer = torch.optim.Adam(generator.module.body.parameters(), lr=1e-3, betas=(0.0, 0.99))
    g_optimizer.add_param_group({"params": generator.module.style.parameters(), "lr": 1e-5})
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=1e-3, betas=(0.0, 0.99))
    train([torch.randn(8, 3, 16, 16) for _ in range(4)], generator, discriminator, g_optimizer, d_optimizer)
