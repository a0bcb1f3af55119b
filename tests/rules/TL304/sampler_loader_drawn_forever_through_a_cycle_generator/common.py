"""A generator that yields batches from a loader forever, epoch after epoch (training counts
iterations, not epochs)."""


def cycle(dataloader, device):
    epoch = 1
    while True:
        for batch in dataloader:
            yield [t.to(device) for t in batch]
        epoch += 1
