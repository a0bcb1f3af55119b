"""The channel axis is moved before the reshape, or the `-1` sits last; and a model with no
convolution adds a unit axis to its 2-D output the same way (nothing is reordered)."""

import torch.nn as nn


class ConvRecognizer(nn.Module):
    def __init__(self, n_classes: int):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.rnn = nn.LSTM(32, 64, batch_first=True)
        self.head = nn.Linear(64, n_classes)

    def forward(self, images):
        x = self.features(images)
        flat = x.view(x.size(0), x.size(1), -1)
        x = x.permute(0, 2, 3, 1).reshape(x.size(0), -1, x.size(1))
        x, _ = self.rnn(x)
        return self.head(x), flat


class TextTagger(nn.Module):
    def __init__(self, vocab: int, n_tags: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, 64)
        self.rnn = nn.LSTM(64, 64)
        self.fc = nn.Linear(64, n_tags)

    def forward(self, tokens):
        x, _ = self.rnn(self.embed(tokens))
        x = self.fc(x.contiguous().view(-1, x.size(2)))
        return x.view(x.size(0), -1, x.size(1))
