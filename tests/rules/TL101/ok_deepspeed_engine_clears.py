"""DeepSpeed's engine runs backward and the optimizer step, and `engine.step()` clears the
gradients itself: the loop needs no zero_grad."""

import deepspeed
import torch.nn as nn
import torch.nn.functional as F

model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3))
engine, optimizer, loader, _ = deepspeed.initialize(
    model=model, model_parameters=model.parameters(), training_data=None, config="ds_config.json"
)
for epoch in range(3):
    for x, y in loader:
        loss = F.cross_entropy(engine(x), y)
        engine.backward(loss)
        engine.step()
