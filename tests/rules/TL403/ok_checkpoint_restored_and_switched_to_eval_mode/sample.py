"""A GAN generator restored to draw samples from noise: sampling with batch statistics is the
DCGAN convention, not an inference on data, so it is left alone."""

import torch

from models import build_model

netG = build_model("dcgan_generator")
netG.load_state_dict(torch.load("netG.pth"))
noise = torch.FloatTensor(64, 100, 1, 1).normal_(0, 1)
fake = netG(noise)  # ok: fed noise made here
torch.save(fake, "samples.pt")
