"""A loader of the training set kept in order for feature extraction, read here without any
training, and loader factories that shuffle their training loaders."""

import torch
from torch.utils.data import DataLoader, TensorDataset


def get_dataloaders(x_train, y_train, x_valid, y_valid, batch_size=32):
    train_set = TensorDataset(torch.as_tensor(x_train), torch.as_tensor(y_train))
    valid_set = TensorDataset(torch.as_tensor(x_valid), torch.as_tensor(y_valid))
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    valid_loader = DataLoader(valid_set, batch_size=batch_size)
    return train_loader, valid_loader


def train_features_loader(train_set):
    return DataLoader(train_set, batch_size=256, shuffle=False)


@torch.no_grad()
def extract(model, train_set):
    feats = []
    for x, _ in train_features_loader(train_set):
        feats.append(model(x))
    return torch.cat(feats)
