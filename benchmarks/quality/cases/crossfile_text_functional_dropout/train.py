import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from models import TextCNN

VOCAB = 200


def synthetic_sentences(n, seed):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, VOCAB, (n, 15), generator=g)
    labels = (tokens < 20).sum(dim=1).clamp(max=2)
    return TensorDataset(tokens, labels)


def main():
    torch.manual_seed(0)
    train_loader = DataLoader(synthetic_sentences(120, 0), batch_size=30, shuffle=True)
    dev_loader = DataLoader(synthetic_sentences(60, 1), batch_size=60)
    model = TextCNN(VOCAB)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.NLLLoss()
    for epoch in range(2):
        model.train()
        for tokens, labels in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(tokens), labels)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            correct = sum((model(t).argmax(1) == l).sum().item() for t, l in dev_loader)
        print(f"epoch {epoch}: loss {loss.item():.4f} dev acc {correct / 60:.3f}")


if __name__ == "__main__":
    main()
