import torch
import torch.nn as nn


class BagOfEmbeddings(nn.Module):
    def __init__(self, vectors, n_classes, freeze=True):
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(vectors, freeze=False)
        if freeze:
            self.embedding.weight.requires_gradient = False
        self.out = nn.Linear(vectors.shape[1], n_classes)

    def forward(self, tokens):
        return self.out(self.embedding(tokens).mean(dim=1))


def pretrained_vectors(vocab, dim):
    g = torch.Generator().manual_seed(1)
    return torch.randn(vocab, dim, generator=g) / dim**0.5
