"""The model, defined in its own module, returns softmax probabilities; main() builds an NLLLoss
and the epoch helper feeds it those probabilities.
"""

import torch
import torch.nn as nn

from models import Net


def train_one_epoch(model, loader, optimizer, criterion):
    for x, y in loader:
        optimizer.zero_grad()
        outputs = model(x)
        loss = criterion(outputs, y)  # TL204
        loss.backward()
        optimizer.step()


def main():
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.NLLLoss()
    loader = [(torch.randn(8, 10), torch.randint(0, 3, (8,)))]
    for epoch in range(2):
        train_one_epoch(model, loader, optimizer, criterion)


main()
