"""The fixed model samples under `torch.no_grad()`: no graph is recorded, so the hidden state
fed back at each step carries none."""

import torch
import torch.nn as nn


class CharLM(nn.Module):
    def __init__(self, vocab: int, hidden: int = 32) -> None:
        super().__init__()
        self.encoder = nn.Embedding(vocab, hidden)
        self.rnn = nn.LSTM(hidden, hidden)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, input, hidden):
        out, hidden = self.rnn(self.encoder(input), hidden)
        return self.decoder(out), hidden

    def generate_text(self, length: int = 1000) -> list:
        hidden = (torch.zeros(1, 1, 32), torch.zeros(1, 1, 32))
        input = torch.randint(0, self.decoder.out_features, (1, 1))
        chars = []
        with torch.no_grad():
            for _ in range(length):
                prediction, hidden = self.forward(input, hidden)
                idx = torch.multinomial(prediction.squeeze().exp(), 1)[0]
                input.data.fill_(int(idx))
                chars.append(int(idx))
        return chars
