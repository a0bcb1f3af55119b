"""A runner trains on the `"train"` entry of the loaders dict it is given (Catalyst's
`runner.train(loaders=...)`): that loader is built without `shuffle=True`."""

import os
import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
from catalyst.dl import SupervisedRunner

loaders = {
    "train": DataLoader(  # TL302
        datasets.MNIST(os.getcwd(), train=True, transform=transforms.ToTensor()), batch_size=100
    ),
    "valid": DataLoader(datasets.MNIST(os.getcwd(), train=False, transform=transforms.ToTensor()), batch_size=100),
}


def objective():
    model = torch.nn.Linear(784, 10)
    runner = SupervisedRunner()
    runner.train(
        model=model,
        criterion=torch.nn.CrossEntropyLoss(),
        optimizer=torch.optim.Adam(model.parameters()),
        loaders=loaders,
        num_epochs=10,
    )
