"""A few-shot classifier is wrapped in learn2learn's MAML; each task adapts a clone of it.
The head returns raw scores, but the task loss is `NLLLoss`, which expects log-probabilities."""

import learn2learn as l2l
import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self, ways: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(768, 200)
        self.out = nn.Linear(200, ways)  # TL204

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


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
