"""Loader factories for a training framework that lives elsewhere: the training loaders are
named so, never shuffle, and nothing here reads them."""

import torch
from torch.utils.data import DataLoader, TensorDataset


def get_dataloaders(x_train, y_train, x_valid, y_valid, batch_size=32):
    train_set = TensorDataset(torch.as_tensor(x_train), torch.as_tensor(y_train))
    valid_set = TensorDataset(torch.as_tensor(x_valid), torch.as_tensor(y_valid))
    train_loader = DataLoader(train_set, batch_size=batch_size, pin_memory=True)  # TL302
    valid_loader = DataLoader(valid_set, batch_size=batch_size, pin_memory=True)
    return train_loader, valid_loader


def get_train_loader(dataset, params):
    return DataLoader(dataset, batch_size=params["batch_size"], shuffle=False)  # TL302
