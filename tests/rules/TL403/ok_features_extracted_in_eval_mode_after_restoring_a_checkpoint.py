"""The same script puts the restored model in eval mode before extracting features."""

import numpy as np
import torch
from torch import nn

from utils.checkpoints import restore_checkpoint


class Postnet(nn.Module):
    def __init__(self, n_mels=80, channels=256):
        super().__init__()
        self.conv = nn.Conv1d(n_mels, channels, 5, padding=2)
        self.norm = nn.BatchNorm1d(channels)
        self.out = nn.Conv1d(channels, n_mels, 5, padding=2)

    def forward(self, mels):
        return self.out(torch.tanh(self.norm(self.conv(mels))))


def save_gta_features(model, loader, folder):
    model.eval()
    for ids, mels in loader:
        with torch.no_grad():
            gta = model(mels)
        for item_id, mel in zip(ids, gta.cpu().numpy()):
            np.save(f"{folder}/{item_id}.npy", mel)


if __name__ == "__main__":
    model = Postnet()
    optimizer = torch.optim.Adam(model.parameters())
    restore_checkpoint("tts", model, optimizer)
    save_gta_features(model, [], "gta")
