"""Same loop, but nothing in the code calls `.train()`: the network's class is out of sight and
nothing says that its mode matters, so a linter cannot tell the periodic `eval()` is harmful."""

import torch

from vendor.nets import Segmenter


def validation_loss(model, batches):
    model.eval()  # ok: no sign that the network has dropout or batch norm
    total = 0.0
    with torch.no_grad():
        for x, y in batches:
            total += torch.nn.functional.mse_loss(model(x), y).item()
    return total


def fit(model, steps, train_batches, held_out):
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    for step in range(steps):
        x, y = train_batches[step % len(train_batches)]
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        if step % 50 == 0:
            print(step, validation_loss(model, held_out))


fit(Segmenter(channels=3), 1000, [], [])
