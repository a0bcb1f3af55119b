"""`model` here is whatever a caller out of sight passes; this helper never calls or trains
it, so its name alone does not make the pickled object a module."""
import torch


def save_settings(model, path):
    torch.save(model, path)
