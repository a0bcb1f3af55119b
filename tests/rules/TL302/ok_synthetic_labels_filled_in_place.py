"""A throughput script trains on random data: the features come from `torch.randn` and the
labels from an empty tensor filled in place with `random_()`. I.i.d. draws carry nothing in
their order."""

import torch
import torch.nn as nn


def random_dataset(total_samples, hidden_dim):
    train_data = torch.randn(total_samples, hidden_dim)
    train_label = torch.empty(total_samples, dtype=torch.long).random_(hidden_dim)
    return torch.utils.data.TensorDataset(train_data, train_label)


model = nn.Linear(16, 16)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
data_loader = torch.utils.data.DataLoader(random_dataset(64, 16), batch_size=8)
for epoch in range(2):
    for x, y in data_loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
