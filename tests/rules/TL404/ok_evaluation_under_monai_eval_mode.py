"""MONAI's `with eval_mode(net):` puts the network in eval mode and runs the block under
`torch.no_grad()`: the test loop records nothing."""

import torch
from monai.networks import eval_mode
from monai.networks.nets import DenseNet121


def evaluate(weights, loader):
    eval_model = DenseNet121(spatial_dims=2, in_channels=1, out_channels=6)
    eval_model.load_state_dict(weights)
    correct = total = 0
    with eval_mode(eval_model):
        for batch in loader:
            pred = eval_model(batch["image"]).argmax(dim=1)
            correct += (pred == batch["label"]).sum().item()
            total += len(pred)
    return correct / total


if __name__ == "__main__":
    print(evaluate(torch.load("model.pt"), []))
