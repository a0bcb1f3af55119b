"""The model's class comes from a package outside the project, so its layers are not in
sight; the script puts it in training mode once, before the loop, and a periodic check inside
the loop switches it to eval mode for good: every step after the first check trains in eval
mode.
"""

import torch

from vendor.nets import Segmenter


def validation_loss(model, batches):
    model.eval()  # TL403
    total = 0.0
    with torch.no_grad():
        for x, y in batches:
            total += torch.nn.functional.mse_loss(model(x), y).item()
    return total


def fit(model, steps, train_batches, held_out):
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    model.train()
    for step in range(steps):
        x, y = train_batches[step % len(train_batches)]
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        if step % 50 == 0:
            print(step, validation_loss(model, held_out))


fit(Segmenter(channels=3), 1000, [], [])
