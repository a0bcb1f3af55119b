"""No-grad work beside the training forward: accuracy computed under `torch.no_grad()` after the
step.

Shape: the loops inside `main()`, called under `if __name__ == "__main__"`.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
import copy

features = torch.randn(256, 20)
labels = torch.randint(0, 3, (256,))
loader = DataLoader(TensorDataset(features, labels), batch_size=32, shuffle=True)
val_loader = DataLoader(TensorDataset(torch.randn(64, 20), torch.randint(0, 3, (64,))), batch_size=64)


def main():
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    accum_steps = 4
    ema = copy.deepcopy(model)
    for epoch in range(3):
        for x, y in loader:
            optimizer.zero_grad()
            out = model(x)
            loss = criterion(out, y)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                accuracy = (out.argmax(dim=1) == y).float().mean()


if __name__ == "__main__":
    main()
