"""Sizes read where they are used: an LSTM fed `(seq, batch, dim)` by viewing batch-first
embeddings with the token ids' second size first, and a feature map whose last two sizes are
swapped in the view."""

import torch.nn as nn


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size, dim, hidden, labels, batch_size):
        super().__init__()
        self.batch_size = batch_size
        self.embed = nn.Embedding(vocab_size, dim)
        self.lstm = nn.LSTM(dim, hidden)
        self.head = nn.Linear(hidden, labels)

    def forward(self, tokens):
        embeds = self.embed(tokens)
        x = embeds.view(tokens.size(1), self.batch_size, -1)  # TL407
        out, _ = self.lstm(x)
        return self.head(out[-1])


class Mixer(nn.Module):
    def __init__(self, channels, steps):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 3, padding=1)
        self.fc = nn.Linear(channels, channels)

    def forward(self, h):
        h = self.conv(h)
        h = h.view(h.size(0), h.size(2), h.size(1))  # TL407
        return self.fc(h)
