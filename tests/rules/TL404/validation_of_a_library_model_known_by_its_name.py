"""A script builds its model with a library constructor the linter cannot see into, trains it
at module level and validates it each epoch in a helper that never turns gradients off: the
name and the calls on data say it is the model, and the validation loop keeps every batch's
graph."""
import torch
from potentials import AtomicNetwork, Pipeline

featurizer = AtomicNetwork.featurizer(cutoff=5.2)
head = AtomicNetwork(width=128)
model = Pipeline(featurizer, head).to("cpu")
optimizer = torch.optim.Adam(head.parameters(), lr=1e-3)
mse = torch.nn.MSELoss()


def validate(loader):
    total, count = 0.0, 0
    for species, positions, energies in loader:
        predicted = model((species, positions))  # TL404
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
