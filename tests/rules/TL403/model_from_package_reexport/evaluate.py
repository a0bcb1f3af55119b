"""A dice-score helper the training script calls after each epoch; the network is never put
in eval mode, so batch norm uses each validation batch's statistics."""
import torch


def eval_net(net, loader):
    total = 0.0
    with torch.no_grad():
        for images, masks in loader:
            pred = torch.sigmoid(net(images))  # TL403
            total += (pred > 0.5).float().eq(masks).float().mean().item()
    return total / len(loader)
