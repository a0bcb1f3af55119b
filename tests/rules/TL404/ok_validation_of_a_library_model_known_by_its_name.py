"""The same script validates under `torch.no_grad()`: nothing is recorded."""
import torch
from potentials import AtomicNetwork, Pipeline

featurizer = AtomicNetwork.featurizer(cutoff=5.2)
head = AtomicNetwork(width=128)
model = Pipeline(featurizer, head).to("cpu")
optimizer = torch.optim.Adam(head.parameters(), lr=1e-3)
mse = torch.nn.MSELoss()


def validate(loader):
    total, count = 0.0, 0
    with torch.no_grad():
        for species, positions, energies in loader:
            predicted = model((species, positions))
            total += mse(predicted, energies).item() * len(energies)
            count += len(energies)
    return total / count


def train(train_loader, valid_loader, epochs):
    for _ in range(epochs):
        print("validation mse", validate(valid_loader))
        for species, positions, energies in train_loader:
            loss = mse(model((species, positions)), energies)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
