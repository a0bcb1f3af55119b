import torch
import torch.nn as nn
import torch.nn.functional as F


class TextCNN(nn.Module):
    """Convolutional sentence classifier (Kim-style) returning log-probabilities."""

    def __init__(self, vocab_size, embed_dim=32, n_filters=16, kernel_sizes=(2, 3, 4), n_classes=3):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.convs = nn.ModuleList(nn.Conv1d(embed_dim, n_filters, k) for k in kernel_sizes)
        self.fc = nn.Linear(n_filters * len(kernel_sizes), n_classes)

    def forward(self, tokens):
        emb = self.embedding(tokens).transpose(1, 2)
        pooled = [F.relu(conv(emb)).max(dim=2).values for conv in self.convs]
        h = torch.cat(pooled, dim=1)
        h = F.dropout(h, p=0.5)
        return F.log_softmax(self.fc(h))
