"""An Ignite trainer whose learning-rate schedule is advanced by a handler attached to
`Events.EPOCH_STARTED`: it runs before the epoch's first update, so on the first epoch the
scheduler steps before the optimizer has."""

import torch
import torch.nn as nn
from ignite.engine import Events, create_supervised_trainer


def train(loader, epochs):
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[30, 60], gamma=0.1)
    trainer = create_supervised_trainer(model, optimizer, nn.CrossEntropyLoss())

    @trainer.on(Events.EPOCH_STARTED)
    def adjust_learning_rate(engine):
        scheduler.step()  # TL105

    trainer.run(loader, max_epochs=epochs)
