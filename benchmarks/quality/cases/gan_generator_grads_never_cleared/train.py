"""Conditional GAN on 2-D points: the generator's gradients are never cleared."""
import torch
import torch.nn as nn
import torch.nn.functional as F

LATENT, N_CLASSES, BATCH = 8, 3, 48


def real_batch(n):
    labels = torch.randint(0, N_CLASSES, (n,))
    centers = torch.tensor([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    return centers[labels] + 0.2 * torch.randn(n, 2), labels


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(N_CLASSES, 8)
        self.net = nn.Sequential(nn.Linear(LATENT + 8, 64), nn.ReLU(), nn.Linear(64, 2))

    def forward(self, z, labels):
        return self.net(torch.cat([z, self.embed(labels)], dim=1))


class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(N_CLASSES, 8)
        self.net = nn.Sequential(nn.Linear(2 + 8, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))

    def forward(self, x, labels):
        return self.net(torch.cat([x, self.embed(labels)], dim=1))


def train(epochs=2, iters=15):
    gen, critic = Generator(), Critic()
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-4, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))
    for epoch in range(epochs):
        for _ in range(iters):
            real, labels = real_batch(BATCH)
            fake = gen(torch.randn(BATCH, LATENT), labels)

            opt_d.zero_grad()
            d_real = critic(real, labels)
            d_fake = critic(fake.detach(), labels)
            d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
            d_loss.backward()
            opt_d.step()

            g_loss = F.softplus(-critic(fake, labels)).mean()
            g_loss.backward()
            opt_g.step()
        print(f"epoch {epoch}: d {d_loss.item():.3f} g {g_loss.item():.3f}")


if __name__ == "__main__":
    torch.manual_seed(0)
    train()
