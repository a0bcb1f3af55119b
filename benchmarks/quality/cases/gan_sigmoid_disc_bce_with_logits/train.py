"""A 1-D GAN learning a Gaussian mixture."""
import torch
import torch.nn as nn

torch.manual_seed(0)
LATENT = 8
BATCH = 64


def real_samples(n):
    centers = torch.tensor([-2.0, 2.0])[torch.randint(0, 2, (n,))]
    return (centers + 0.3 * torch.randn(n)).unsqueeze(1)


generator = nn.Sequential(nn.Linear(LATENT, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
discriminator = nn.Sequential(
    nn.Linear(1, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1), nn.Sigmoid()
)
adversarial_loss = nn.BCEWithLogitsLoss()
opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))

for epoch in range(2):
    for it in range(20):
        real = real_samples(BATCH)
        valid = torch.ones(BATCH, 1)
        fake_label = torch.zeros(BATCH, 1)

        # generator update
        opt_g.zero_grad()
        fake = generator(torch.randn(BATCH, LATENT))
        g_loss = adversarial_loss(discriminator(fake), valid)
        g_loss.backward()
        opt_g.step()

        # discriminator update
        opt_d.zero_grad()
        real_loss = adversarial_loss(discriminator(real), valid)
        fake_loss = adversarial_loss(discriminator(fake.detach()), fake_label)
        d_loss = 0.5 * (real_loss + fake_loss)
        d_loss.backward()
        opt_d.step()
    print(f"epoch {epoch}: d_loss {d_loss.item():.4f} g_loss {g_loss.item():.4f}")
