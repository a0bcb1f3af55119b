"""Restores a checkpoint to go on training it: the forward under `no_grad` is a periodic
check inside training, not an inference script's pass."""

import torch

from models import build_model

model = build_model("crnn")
model.load_state_dict(torch.load("last.pt"))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
batches = torch.load("batches.pt")
for step, (x, y) in enumerate(batches):
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
    if step % 100 == 0:
        with torch.no_grad():
            print(model(x).argmax(-1).eq(y).float().mean())  # ok: not a restored-for-inference pass
