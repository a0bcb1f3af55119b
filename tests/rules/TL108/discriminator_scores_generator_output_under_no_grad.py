"""A vocoder's generator step scores its own output with the discriminator under
`torch.no_grad()`: the adversarial term added to the reconstruction loss carries no gradient
back to the generator, which trains on the reconstruction loss alone."""

import torch
import torch.nn.functional as F


def generator_adversarial_loss(scores):
    parts = [torch.mean((1 - s) ** 2) for s in scores]
    return sum(parts), parts


class VocoderTrainer:
    def __init__(self, generator, discriminator, loader):
        self.generator = generator
        self.discriminator = discriminator
        self.loader = loader
        self.opt_g = torch.optim.AdamW(generator.parameters(), lr=2e-4)
        self.opt_d = torch.optim.AdamW(discriminator.parameters(), lr=2e-4)

    def step(self, mel, audio):
        fake = self.generator(mel)
        real_score = self.discriminator(audio)
        fake_score = self.discriminator(fake.detach())
        d_loss = F.relu(1 - real_score).mean() + F.relu(1 + fake_score).mean()
        self.opt_d.zero_grad()
        d_loss.backward()
        self.opt_d.step()

        fake = self.generator(mel)
        with torch.no_grad():
            adv_score = self.discriminator(fake)  # TL108
        adv_loss, _ = generator_adversarial_loss([adv_score])
        g_loss = F.l1_loss(fake, audio) * 45 + adv_loss
        self.opt_g.zero_grad()
        g_loss.backward()
        self.opt_g.step()

    def train(self, epochs):
        for _ in range(epochs):
            for mel, audio in self.loader:
                self.step(mel, audio)


if __name__ == "__main__":
    generator = torch.nn.Sequential(
        torch.nn.Conv1d(80, 64, 7, padding=3), torch.nn.Tanh(), torch.nn.Conv1d(64, 1, 7, padding=3)
    )
    discriminator = torch.nn.Sequential(
        torch.nn.Conv1d(1, 16, 15, padding=7), torch.nn.LeakyReLU(0.1), torch.nn.Conv1d(16, 1, 3)
    )
    batches = [(torch.randn(4, 80, 100), torch.randn(4, 1, 100)) for _ in range(8)]
    VocoderTrainer(generator, discriminator, batches).train(2)
