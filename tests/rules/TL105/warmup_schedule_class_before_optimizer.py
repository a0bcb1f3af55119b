"""A BERT-era fine-tuning loop with the older Hugging Face warm-up scheduler class (a LambdaLR),
stepped before the optimizer in each iteration."""

import torch
import torch.nn as nn
from pytorch_transformers.optimization import WarmupLinearSchedule

model = nn.Linear(32, 2)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-5)
scheduler = WarmupLinearSchedule(optimizer, warmup_steps=10, t_total=100)

for step in range(100):
    x, y = torch.randn(8, 32), torch.randint(0, 2, (8,))
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    scheduler.step()  # TL105
    optimizer.step()
    optimizer.zero_grad()
