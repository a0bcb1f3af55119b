"""A model chosen by a command-line flag and called each its own way in the training loop (the
recurrent one with its hidden state, returning its output and the new state; the attention one
with the tokens only), with an NLL loss: both models return log-probabilities.
"""

import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--arch", default="gru")
args = parser.parse_args()


class Recurrent(nn.Module):
    def __init__(self, vocab, width):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.cell = nn.GRU(width, width)
        self.head = nn.Linear(width, vocab)

    def forward(self, tokens, state):
        seq, state = self.cell(self.embed(tokens), state)
        return F.log_softmax(self.head(seq), dim=-1), state


class Attentive(nn.Module):
    def __init__(self, vocab, width):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.mix = nn.TransformerEncoderLayer(width, 2)
        self.head = nn.Linear(width, vocab)

    def forward(self, tokens, causal=True):
        scores = self.head(self.mix(self.embed(tokens)))
        return F.log_softmax(scores, dim=-1)


vocab = 50
if args.arch == "attention":
    net = Attentive(vocab, 16)
else:
    net = Recurrent(vocab, 16)
criterion = nn.NLLLoss()
optimizer = torch.optim.SGD(net.parameters(), lr=0.5)

state = torch.zeros(1, 4, 16)
for step in range(20):
    tokens = torch.randint(0, vocab, (12, 4))
    targets = torch.randint(0, vocab, (12 * 4,))
    optimizer.zero_grad()
    if args.arch == "attention":
        out = net(tokens)
    else:
        out, state = net(tokens, state.detach())
    loss = criterion(out.view(-1, vocab), targets)
    loss.backward()
    optimizer.step()
