"""A CNN-to-LSTM model turns its (batch, channels, height, width) feature map into a sequence
of channel vectors with one reshape: the `-1` takes height and width, and the channel axis is
put behind them without being moved."""

import torch.nn as nn


class ConvRecognizer(nn.Module):
    def __init__(self, n_classes: int):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
        )
        self.rnn = nn.LSTM(64, 128, batch_first=True)
        self.head = nn.Linear(128, n_classes)

    def forward(self, images):
        x = self.features(images)
        x = x.reshape(x.size(0), -1, x.size(1))  # TL407
        x, _ = self.rnn(x)
        return self.head(x)
