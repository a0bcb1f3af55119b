"""Federated averaging: each client trains a deep copy of the global model, whose
`forward` ends with `nn.Softmax`, with `CrossEntropyLoss`. The copy is the same kind of
model as the original."""

import copy

import torch
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(784, 200)
        self.out = nn.Linear(200, 10)
        self.softmax = nn.Softmax(dim=1)  # TL201

    def forward(self, x):
        return self.softmax(self.out(torch.relu(self.hidden(x))))


class LocalUpdate:
    def __init__(self):
        self.loss_func = nn.CrossEntropyLoss()

    def train(self, net):
        net.train()
        optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)
        for step in range(5):
            images, labels = torch.randn(16, 784), torch.randint(0, 10, (16,))
            net.zero_grad()
            loss = self.loss_func(net(images), labels)
            loss.backward()
            optimizer.step()
        return net.state_dict()


global_model = MLP()
for round_ in range(3):
    states = []
    for client in range(4):
        local = LocalUpdate()
        states.append(local.train(net=copy.deepcopy(global_model).to("cpu")))
    global_model.load_state_dict(states[0])
