"""A GAN module holds a generator and its moving-average copy. The trainer puts the whole
module in eval mode before sampling from either generator in chunks: `eval()` on the module
reaches its submodules, so the batch-norm layers of both generators are in eval mode."""

import torch
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self, latent_dim=64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent_dim, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 784))

    def forward(self, z):
        return torch.tanh(self.net(z))


class GAN(nn.Module):
    def __init__(self, latent_dim=64):
        super().__init__()
        self.latent_dim = latent_dim
        self.G = Generator(latent_dim)
        self.GE = Generator(latent_dim)
        self.D = nn.Sequential(nn.Linear(784, 128), nn.LeakyReLU(0.2), nn.Linear(128, 1))


def evaluate_in_chunks(max_batch_size, model, latents):
    chunks = [model(z) for z in latents.split(max_batch_size, dim=0)]
    return torch.cat(chunks, dim=0)


class Trainer:
    def __init__(self):
        self.GAN = GAN()
        self.opt = torch.optim.Adam(self.GAN.G.parameters(), lr=2e-4)

    def train_step(self):
        self.GAN.train()
        self.opt.zero_grad()
        fake = self.GAN.G(torch.randn(32, self.GAN.latent_dim))
        loss = -self.GAN.D(fake).mean()
        loss.backward()
        self.opt.step()

    @torch.no_grad()
    def generate(self, G, latents):
        return evaluate_in_chunks(16, G, latents)

    @torch.no_grad()
    def evaluate(self):
        self.GAN.eval()
        latents = torch.randn(64, self.GAN.latent_dim)
        regular = self.generate(self.GAN.G, latents)
        averaged = self.generate(self.GAN.GE, latents)
        return regular, averaged


trainer = Trainer()
for step in range(100):
    trainer.train_step()
    if step % 10 == 0:
        trainer.evaluate()
