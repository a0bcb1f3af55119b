"""The output masked through `.data` before the loss, and a weight renormalised before backward."""

import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 5)

    def forward(self, x):
        return self.fc(x)


model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in [(torch.randn(4, 10), torch.randint(0, 5, (4,)))] * 10:
    optimizer.zero_grad()
    out = model(x)
    out.data[:, 0] = 0.0  # TL607
    loss = nn.functional.cross_entropy(out, y)
    model.fc.weight.data /= model.fc.weight.data.norm()  # TL607
    loss.backward()
    optimizer.step()
