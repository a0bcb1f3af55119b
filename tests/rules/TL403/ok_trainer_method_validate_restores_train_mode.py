"""The same trainer, but validate() puts the model back in training mode before it returns:
the rest of the epoch trains as it should.
"""

import torch

from vendor.factory import build_encoder


class Trainer:
    def __init__(self, name):
        self.model = build_encoder(name)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-4)

    def fit(self, epochs, batches, held_out):
        for epoch in range(epochs):
            self.model.train()
            self._run_batches(batches, held_out, every=10)

    def _run_batches(self, batches, held_out, every):
        for i, (x, y) in enumerate(batches):
            self._train_step(x, y)
            if i % every == 0:
                print(i, self.validate(held_out))

    def _train_step(self, x, y):
        self.opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(self.model(x), y)
        loss.backward()
        self.opt.step()

    def validate(self, held_out):
        self.model.eval()  # ok: validate() restores training mode before it returns
        total = 0.0
        with torch.no_grad():
            for x, y in held_out:
                total += torch.nn.functional.cross_entropy(self.model(x), y).item()
        self.model.train()
        return total
