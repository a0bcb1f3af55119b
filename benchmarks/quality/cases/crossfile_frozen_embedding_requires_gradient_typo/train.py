import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from models import BagOfEmbeddings, pretrained_vectors


def main():
    torch.manual_seed(0)
    tokens = torch.randint(0, 500, (320, 12))
    labels = (tokens[:, 0] % 2).long()
    loader = DataLoader(TensorDataset(tokens, labels), batch_size=32, shuffle=True)

    model = BagOfEmbeddings(pretrained_vectors(500, 24), n_classes=2)
    optimizer = torch.optim.SGD((p for p in model.parameters() if p.requires_grad), lr=0.1, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
