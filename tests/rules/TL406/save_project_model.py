import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)


model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
loss = model(torch.randn(8, 4)).sum()
loss.backward()
optimizer.step()
torch.save(model, "net.pt")  # TL406


def restore(path):
    net = Net()
    net.load_state_dict(torch.load(path))
    return net
