"""Full-batch LBFGS whose closure is defined at module level, outside the loop that calls
`optimizer.step(closure)`.
"""

import torch
import torch.nn as nn

X = torch.randn(256, 3)
Y = X @ torch.tensor([[2.0], [-1.0], [0.5]])
model = nn.Linear(3, 1)
optimizer = torch.optim.LBFGS(model.parameters(), lr=1.0, history_size=10, max_iter=20)
criterion = nn.MSELoss()


def closure():
    optimizer.zero_grad()
    loss = criterion(model(X), Y)
    loss.backward()
    return loss


for it in range(10):
    loss = optimizer.step(closure)
    print(it, loss.item())
