import torch

from model import Net

net = Net()
optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
for step in range(10):
    x, y = torch.randn(16, 8), torch.randn(16, 1)
    optimizer.zero_grad()
    out, loss = net(x, y)
    loss.backward()
    optimizer.step()
