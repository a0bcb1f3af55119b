"""An inference script's `torch.set_grad_enabled(False)` at the top, left in when a fine-tuning
loop was added below it: gradients stay off for the rest of the program."""

import torch
import torch.nn as nn

torch.set_grad_enabled(False)

model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
criterion = nn.CrossEntropyLoss()


def finetune(batches):
    for x, y in batches:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()  # TL108
        optimizer.step()


finetune([(torch.randn(8, 20), torch.randint(0, 3, (8,))) for _ in range(4)])
