"""A resume helper returns the scheduler it was given; another call leaves it at its
`None` default. The scheduler that reaches the epoch loop is still the one built by the
setup helper, and it is stepped before any optimizer step of the epoch."""

import argparse

import torch
import torch.nn as nn
from torch.optim import lr_scheduler


def make_optim(args, params):
    optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    if args.schedule == "plateau":
        scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, "min")
    else:
        scheduler = lr_scheduler.MultiStepLR(optimizer, [30, 60])
    return optimizer, scheduler


def resume(path, model, optimizer=None, scheduler=None):
    state = torch.load(path)
    model.load_state_dict(state["model"])
    if scheduler is not None:
        scheduler.load_state_dict(state["scheduler"])
    return state["epoch"] + 1, model, optimizer, scheduler


def train_epoch(model, data, optimizer):
    for x, y in data:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()


parser = argparse.ArgumentParser()
parser.add_argument("--schedule", default="multistep")
parser.add_argument("--resume", default=None)
parser.add_argument("--train", action="store_true")
args = parser.parse_args()
model = nn.Linear(8, 3)
data = [(torch.randn(4, 8), torch.randint(0, 3, (4,)))]
start = 1
if args.train:
    optimizer, scheduler = make_optim(args, model.parameters())
if args.resume is not None:
    if args.train:
        start, model, optimizer, scheduler = resume(args.resume, model, optimizer, scheduler)
    else:
        start, model, _, _ = resume(args.resume, model)
for epoch in range(start, 90):
    scheduler.step()  # TL105
    train_epoch(model, data, optimizer)
