import torch


def export(thing, path):
    torch.save(thing, path)


def save_model(model, path):
    torch.save(model, path)
