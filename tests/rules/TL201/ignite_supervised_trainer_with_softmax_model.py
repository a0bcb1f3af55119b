"""ignite's `create_supervised_trainer(model, optimizer, loss_fn)` feeds the model's output to
the loss at every step; the model ends in `nn.Softmax`."""

import torch
import torch.nn as nn
from ignite.engine import create_supervised_trainer

model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 4), nn.Softmax(dim=1))  # TL201
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
trainer = create_supervised_trainer(model, optimizer, nn.CrossEntropyLoss())
trainer.run([(torch.randn(8, 10), torch.randint(0, 4, (8,)))], max_epochs=2)
