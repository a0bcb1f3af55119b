"""A translation script's greedy decoder: it encodes once, then decodes token after token in
its own loop, and an interactive loop calls it for every sentence. Both forwards run with
gradients on, but the defect is one: the decoder lacks `no_grad`, so it is reported once, at
the decoding loop (the encode call before that loop is not a second finding)."""

import torch
import torch.nn as nn


class Translator(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(8, 8)
        self.dec = nn.Linear(8, 8)
        self.drop = nn.Dropout(0.1)

    def encode(self, x):
        return self.drop(self.enc(x))

    def decode(self, y, memory):
        return self.dec(y + memory)


def greedy_decode(model, src, max_len):
    memory = model.encode(src)  # ok: the same defect as the loop below
    ys = torch.zeros(1, 8)
    for _ in range(max_len):
        out = model.decode(ys, memory)  # TL404
        ys = out.argmax(-1, keepdim=True).float().expand(1, 8)
    return ys


def interactive(path):
    model = Translator()
    model.load_state_dict(torch.load(path))
    model.eval()
    while True:
        src = torch.randn(1, 8)
        print(greedy_decode(model, src, max_len=10))
