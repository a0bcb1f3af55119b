"""Character-level GRU language model trained with Lightning Fabric."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from lightning.fabric import Fabric

TEXT = (
    "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat "
    "and the bird sings a song about the river that runs past the old mill "
) * 20


class CharGRU(nn.Module):
    def __init__(self, vocab_size, emb=32, hidden=64):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, emb)
        self.rnn = nn.GRU(emb, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size)

    def forward(self, x):
        h, _ = self.rnn(self.emb(x))
        return self.out(h)


def build_dataset(text, block=32):
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    n = (len(ids) - 1) // block
    x = ids[: n * block].view(n, block)
    y = ids[1 : n * block + 1].view(n, block)
    return TensorDataset(x, y), len(chars)


def train(fabric, model, optimizer, loader, epochs, max_norm=0.5):
    model.train()
    for epoch in range(epochs):
        total = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
            fabric.backward(loss)
            optimizer.step()
            fabric.clip_gradients(model, optimizer, max_norm=max_norm)
            total += loss.item()
        fabric.print(f"epoch {epoch}: loss {total / len(loader):.3f}")


def main():
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(0)
    dataset, vocab = build_dataset(TEXT)
    loader = DataLoader(dataset, batch_size=16, shuffle=True)

    model = CharGRU(vocab)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model, optimizer = fabric.setup(model, optimizer)
    loader = fabric.setup_dataloaders(loader)

    train(fabric, model, optimizer, loader, epochs=4)


if __name__ == "__main__":
    main()
