"""The model, defined in its own module, ends its forward with F.softmax; main() builds a
CrossEntropyLoss and hands it to the epoch helper, which feeds it those probabilities.
"""

import torch
import torch.nn as nn

from models import Net


def train_one_epoch(model, loader, optimizer, criterion):
    for x, y in loader:
        optimizer.zero_grad()
        outputs = model(x)
        loss = criterion(outputs, y)  # TL201
        loss.backward()
        optimizer.step()


def main():
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    loader = [(torch.randn(8, 10), torch.randint(0, 3, (8,)))]
    for epoch in range(2):
        train_one_epoch(model, loader, optimizer, criterion)


main()
