"""A training function gets its model from a caller out of sight and pickles it whole at
every checkpoint, while the project's loader expects weights (`load_state_dict`). The
function trains the object it saves, so it is a module."""
import torch


def train(model, loader, optimizer, epochs, save_folder):
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        torch.save(model, f"{save_folder}/epoch_{epoch}.pth")  # TL406


def restore(net, path):
    net.load_state_dict(torch.load(path))
    return net
