"""Old-style code wraps the batch it loads in `Variable`: the inputs carry no history to lose,
and the loss computed from the model's output keeps its graph."""
import torch
import torch.nn as nn
from torch.autograd import Variable
from torch.utils.data import DataLoader, TensorDataset

model = nn.Linear(8, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
loader = DataLoader(TensorDataset(torch.randn(64, 8), torch.randn(64, 1)), batch_size=16, shuffle=True)
for x, y in loader:
    x, y = Variable(x), Variable(y)
    noise = Variable(torch.randn(16, 8) * 0.01, requires_grad=True)
    loss = nn.functional.mse_loss(model(x + noise), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
