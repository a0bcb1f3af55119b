"""The autoencoder is put in eval mode where it is built and only encodes the inputs of the
model being trained; `model.train(True)` sets the mode of the other model."""

import torch
import torch.nn as nn

import latent_models
from autoencoder import AutoEncoder


def train_one_epoch(model, autoencoder, loader, optimizer):
    model.train(True)
    for x, y in loader:
        with torch.no_grad():
            z = autoencoder.encode(x)
        loss = nn.functional.cross_entropy(model(z), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def cache_codes(autoencoder, loader):
    codes = []
    for x, _ in loader:
        with torch.no_grad():
            codes.append(autoencoder.encode(x))
    return torch.cat(codes)


def main(name: str = "small") -> None:
    autoencoder = AutoEncoder().eval()
    for p in autoencoder.parameters():
        p.requires_grad = False
    model = latent_models.__dict__[name](num_classes=10)  # (picked by name: out of sight)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    data = [(torch.randn(8, 64), torch.randint(0, 10, (8,))) for _ in range(4)]
    torch.save(cache_codes(autoencoder, data), "codes.pt")
    for _ in range(3):
        train_one_epoch(model, autoencoder, data, optimizer)


if __name__ == "__main__":
    main()
