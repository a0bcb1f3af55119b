"""Sequence regression with a GRU: predict the running mean of a noisy signal."""
import torch
import torch.nn as nn

torch.manual_seed(0)

SEQ_LEN, BATCH, HIDDEN = 20, 16, 32


def make_batch():
    signal = torch.randn(BATCH, SEQ_LEN, 1)
    target = signal.cumsum(dim=1) / torch.arange(1, SEQ_LEN + 1).view(1, -1, 1)
    return signal, target


class SeqModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(1, HIDDEN, batch_first=True)
        self.proj = nn.Linear(HIDDEN, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.proj(out)


model = SeqModel()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.MSELoss()

for epoch in range(2):
    for it in range(10):
        x, target = make_batch()
        optimizer.zero_grad()
        pred = model(x)
        loss = criterion(pred, target)
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch} loss {loss.item():.5f}")
