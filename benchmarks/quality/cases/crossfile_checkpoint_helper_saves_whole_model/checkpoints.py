import os

import torch


def save_checkpoint(model, directory, epoch):
    os.makedirs(directory, exist_ok=True)
    torch.save(model, os.path.join(directory, f"epoch_{epoch}.pt"))


def load_weights(model, path):
    state = torch.load(path, map_location="cpu")
    model.load_state_dict(state)
    return model
