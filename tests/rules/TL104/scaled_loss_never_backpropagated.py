"""Mixed precision: the loss is scaled, but the scaled loss is thrown away instead of
backpropagated, and the scaler still steps."""

import torch
import torch.nn as nn

model = nn.Linear(16, 4)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scaler = torch.amp.GradScaler("cpu")
for step in range(100):
    x, y = torch.randn(32, 16), torch.randint(0, 4, (32,))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = criterion(model(x), y)
    scaler.scale(loss)
    scaler.step(optimizer)  # TL104
    scaler.update()
    optimizer.zero_grad()
