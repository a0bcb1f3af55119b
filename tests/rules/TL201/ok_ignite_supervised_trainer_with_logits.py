"""ignite's supervised trainer on a model that returns raw scores; the softmax is applied by
the evaluator's output transform, for the metric only."""

import torch
import torch.nn as nn
from ignite.engine import create_supervised_evaluator, create_supervised_trainer
from ignite.metrics import Accuracy

model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 4))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
trainer = create_supervised_trainer(model, optimizer, loss_fn=nn.CrossEntropyLoss())
evaluator = create_supervised_evaluator(
    model,
    metrics={"acc": Accuracy()},
    output_transform=lambda x, y, y_pred: (torch.softmax(y_pred, dim=1), y),
)
trainer.run([(torch.randn(8, 10), torch.randint(0, 4, (8,)))], max_epochs=2)
