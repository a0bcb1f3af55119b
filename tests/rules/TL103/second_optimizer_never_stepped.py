"""A GAN script builds an optimizer (and a scheduler) for the discriminator, prepares both, and
then its discriminator branch only logs the loss: nothing steps that optimizer."""
import torch
import torch.nn as nn
from accelerate import Accelerator


def main(args, train_dataloader):
    accelerator = Accelerator()
    vae = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
    discriminator = nn.Sequential(nn.Linear(8, 1))
    optimizer = torch.optim.AdamW(vae.parameters(), lr=1e-4)
    disc_params = filter(lambda p: p.requires_grad, discriminator.parameters())
    disc_optimizer = torch.optim.AdamW(disc_params, lr=1e-4)  # TL103
    disc_scheduler = torch.optim.lr_scheduler.StepLR(disc_optimizer, step_size=10)
    vae, discriminator, optimizer, disc_optimizer, train_dataloader = accelerator.prepare(
        vae, discriminator, optimizer, disc_optimizer, train_dataloader
    )
    for epoch in range(args.epochs):
        for step, batch in enumerate(train_dataloader):
            if step % 2 == 0:
                recon = vae(batch)
                loss = (recon - batch).pow(2).mean() - discriminator(recon).mean()
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()
            else:
                logits_fake = discriminator(vae(batch).detach())
                disc_loss = torch.relu(1.0 + logits_fake).mean()
                print(disc_loss.item(), disc_scheduler.get_last_lr())
