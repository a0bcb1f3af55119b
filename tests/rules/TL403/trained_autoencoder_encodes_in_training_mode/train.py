"""The autoencoder is trained first, then its codes are cached without switching it to eval
mode: its dropout still drops units while the codes are computed."""

import torch
import torch.nn as nn

from autoencoder import AutoEncoder


def pretrain(autoencoder, loader, epochs: int = 2) -> None:
    optimizer = torch.optim.Adam(autoencoder.parameters(), lr=1e-3)
    autoencoder.train()
    for _ in range(epochs):
        for x, _ in loader:
            loss = nn.functional.mse_loss(autoencoder.decode(autoencoder.encode(x)), x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def cache_codes(autoencoder, loader):
    codes = []
    for x, _ in loader:
        with torch.no_grad():
            codes.append(autoencoder.encode(x))  # TL403
    return torch.cat(codes)


def main() -> None:
    autoencoder = AutoEncoder()
    data = [(torch.randn(8, 64), torch.randint(0, 10, (8,))) for _ in range(4)]
    pretrain(autoencoder, data)
    torch.save(cache_codes(autoencoder, data), "codes.pt")


if __name__ == "__main__":
    main()
