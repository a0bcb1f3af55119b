"""A training wrapper (not a module) that owns two encoders built by a library and switches
their modes in its own methods."""

import torch
import torchvision


class Retrieval:
    def __init__(self) -> None:
        self.img_enc = torchvision.models.resnet18()
        self.txt_enc = torch.nn.GRU(32, 512, batch_first=True)
        self.optimizer = torch.optim.Adam(list(self.img_enc.parameters()) + list(self.txt_enc.parameters()), lr=2e-4)

    def train_start(self) -> None:
        self.img_enc.train()
        self.txt_enc.train()

    def val_start(self) -> None:
        self.img_enc.eval()  # TL403
        self.txt_enc.eval()

    def encode(self, images, captions):
        img = self.img_enc(images)
        txt, _ = self.txt_enc(captions)
        return img, txt[:, -1]

    def train_step(self, images, captions) -> None:
        img, txt = self.encode(images, captions)
        loss = -(torch.nn.functional.normalize(img) * torch.nn.functional.normalize(txt)).sum()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
