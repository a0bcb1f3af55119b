"""The wrapper is put in training mode once per epoch; a mid-epoch validation switches it to
eval mode and the rest of the epoch trains in eval mode."""

import torch
from model import Retrieval


def validate(model, batches):
    model.val_start()
    with torch.no_grad():
        for images, captions in batches:
            model.encode(images, captions)


def train(model, batches, val_batches, val_every):
    model.train_start()
    for i, (images, captions) in enumerate(batches):
        model.train_step(images, captions)
        if i % val_every == 0:
            validate(model, val_batches)


model = Retrieval()
batches = [(torch.randn(4, 3, 64, 64), torch.randn(4, 7, 32))] * 8
for epoch in range(3):
    train(model, batches, batches[:2], val_every=4)
