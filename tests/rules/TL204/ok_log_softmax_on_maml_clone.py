"""The same MAML classifier ends in `log_softmax`, as `NLLLoss` expects."""

import learn2learn as l2l
import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self, ways: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(768, 200)
        self.out = nn.Linear(200, ways)

    def forward(self, x):
        return torch.log_softmax(self.out(torch.relu(self.hidden(x))), dim=1)


model = Head(ways=5)
maml = l2l.algorithms.MAML(model, lr=0.01)
opt = torch.optim.Adam(maml.parameters(), lr=0.005)
loss_func = nn.NLLLoss()

for iteration in range(10):
    learner = maml.clone()
    x, y = torch.randn(25, 768), torch.randint(0, 5, (25,))
    learner.adapt(loss_func(learner(x), y))
    meta_loss = loss_func(learner(x), y)
    opt.zero_grad()
    meta_loss.backward()
    opt.step()
