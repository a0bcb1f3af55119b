"""An MNIST-style MLP whose forward applies ReLU to the last linear layer too, then
`log_softmax`, trained with `nll_loss`: the pair is cross-entropy on clamped scores."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(784, 128)
        self.l2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.l1(x.view(-1, 784)))
        x = F.relu(self.l2(x))  # TL206
        return F.log_softmax(x, dim=1)


model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
for step in range(10):
    data, target = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))
    optimizer.zero_grad()
    loss = F.nll_loss(model(data), target)
    loss.backward()
    optimizer.step()
