"""Views whose inline sizes keep the axes in order, or move them first."""

import torch.nn as nn


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size, dim, hidden, labels):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.lstm = nn.LSTM(dim, hidden)
        self.head = nn.Linear(hidden, labels)

    def forward(self, tokens):
        embeds = self.embed(tokens)
        x = embeds.permute(1, 0, 2)
        out, _ = self.lstm(x.view(tokens.size(1), tokens.size(0), -1))
        flat = embeds.view(embeds.size(0), -1)
        merged = embeds.reshape(embeds.size(0) * embeds.size(1), -1)
        return self.head(out[-1]) + flat.sum() + merged.sum()


class Mixer(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 3, padding=1)

    def forward(self, h):
        h = self.conv(h)
        return h.view(h.size(0), h.size(1), h.size(2)).transpose(1, 2)
