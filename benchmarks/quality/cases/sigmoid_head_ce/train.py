import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class AudioTagger(nn.Module):
    """1-D conv over short synthetic spectrogram frames, 6 exclusive tags."""

    def __init__(self, n_mels=16, n_tags=6):
        super().__init__()
        self.conv = nn.Conv1d(n_mels, 32, kernel_size=3, padding=1)
        self.pool = nn.AdaptiveMaxPool1d(1)
        self.classifier = nn.Sequential(nn.Linear(32, n_tags), nn.Sigmoid())

    def forward(self, spec):
        h = F.relu(self.conv(spec))
        return self.classifier(self.pool(h).squeeze(-1))


def main():
    torch.manual_seed(0)
    spec = torch.randn(240, 16, 20)
    tags = torch.randint(0, 6, (240,))
    loader = DataLoader(TensorDataset(spec, tags), batch_size=24, shuffle=True)
    model = AudioTagger()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(2):
        model.train()
        for s, t in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(s), t)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: {loss.item():.4f}")


if __name__ == "__main__":
    main()
