import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 5))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
x, y = torch.randn(256, 20), torch.randint(0, 5, (256,))
for epoch in range(3):
    for i in range(0, 256, 32):
        probs = F.softmax(model(x[i : i + 32]), dim=1)
        loss = F.nll_loss(torch.log(probs), y[i : i + 32])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
