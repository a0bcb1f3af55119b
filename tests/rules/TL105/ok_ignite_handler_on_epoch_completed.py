"""The Ignite handler that advances the schedule runs when the epoch is complete; another
handler at the start of each epoch only logs the learning rate."""

import torch
import torch.nn as nn
from ignite.engine import Events, create_supervised_trainer


def train(loader, epochs):
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[30, 60], gamma=0.1)
    trainer = create_supervised_trainer(model, optimizer, nn.CrossEntropyLoss())

    @trainer.on(Events.EPOCH_STARTED)
    def log_learning_rate(engine):
        print(engine.state.epoch, scheduler.get_last_lr())

    @trainer.on(Events.EPOCH_COMPLETED)
    def adjust_learning_rate(engine):
        scheduler.step()

    trainer.run(loader, max_epochs=epochs)
