"""The project's training helper: the batch loop never clears the gradients. Reported here, not in
train.py.
"""


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()  # TL101
        optimizer.step()
