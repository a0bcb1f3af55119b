"""The model returns probabilities and is trained with NLL on their log; a cross-entropy of
those probabilities is computed under `torch.no_grad()` to print a validation figure, which is
then not the model's cross-entropy (a warning: the training itself is sound)."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return F.softmax(self.fc(x), dim=1)  # TL201


model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in [(torch.randn(8, 4), torch.randint(0, 3, (8,)))]:
    opt.zero_grad()
    loss = F.nll_loss(torch.log(model(x) + 1e-8), y)
    loss.backward()
    opt.step()

with torch.no_grad():
    val = F.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 3, (8,)))
print(val.item())
