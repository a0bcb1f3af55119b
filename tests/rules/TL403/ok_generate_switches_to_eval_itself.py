"""A captioning model's `generate` calls `self.eval()` before decoding (and runs under
`@torch.no_grad()`), so the sampling loop between training epochs needs no `model.eval()` of
its own; the next epoch's `model.train()` switches back."""

import torch
import torch.nn as nn


class Captioner(nn.Module):
    def __init__(self, vocab: int = 1000, dim: int = 256) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.drop = nn.Dropout(0.3)
        self.rnn = nn.GRU(dim, dim, batch_first=True)
        self.out = nn.Linear(dim, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.out(self.rnn(self.drop(self.embed(tokens)))[0])

    @torch.no_grad()
    def generate(self, start: torch.Tensor, length: int = 20) -> torch.Tensor:
        self.eval()
        tokens = start
        for _ in range(length):
            tokens = torch.cat([tokens, self(tokens)[:, -1].argmax(-1, keepdim=True)], dim=1)
        return tokens


model = Captioner()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(5):
    model.train()
    for tokens in torch.load("captions.pt"):
        optimizer.zero_grad()
        logits = model(tokens[:, :-1])
        nn.functional.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten()).backward()
        optimizer.step()
    for start in torch.load("prompts.pt"):
        print(model.generate(start))  # ok: generate switches to eval mode itself
