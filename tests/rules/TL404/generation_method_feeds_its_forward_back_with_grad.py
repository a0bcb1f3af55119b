"""A character language model's own `generate_text` samples a thousand characters, feeding
each step's hidden state back into `self.forward`. Nothing puts it in eval mode or names it an
evaluation, but it samples: no backward ever comes, and with gradients on every step's graph is
chained to the last, so memory grows with the text."""

import torch
import torch.nn as nn


class CharLM(nn.Module):
    def __init__(self, vocab: int, hidden: int = 32) -> None:
        super().__init__()
        self.encoder = nn.Embedding(vocab, hidden)
        self.rnn = nn.LSTM(hidden, hidden)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, input, hidden):
        out, hidden = self.rnn(self.encoder(input), hidden)  # TL404
        return self.decoder(out), hidden

    def generate_text(self, length: int = 1000) -> list:
        hidden = (torch.zeros(1, 1, 32), torch.zeros(1, 1, 32))
        input = torch.randint(0, self.decoder.out_features, (1, 1))
        chars = []
        for _ in range(length):
            prediction, hidden = self.forward(input, hidden)
            idx = torch.multinomial(prediction.squeeze().exp(), 1)[0]
            input.data.fill_(int(idx))
            chars.append(int(idx))
        return chars
