"""The network comes from a factory (class out of sight) and the only `.train()` call is a
runner's own method, not the network's: nothing says the network has a training mode."""
import torch

from project.factory import build_model


def evaluate(model, loader):
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()  # ok: nothing known about its layers
    return correct


def main(config, runner, loader, val_loader):
    model = build_model(config)
    opt = torch.optim.Adam(model.parameters())
    runner.train()
    for x, y in loader:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(evaluate(model, val_loader))
