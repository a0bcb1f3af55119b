import torch

def smooth_loss(criterion, out, y):
    return torch.tensor(criterion(out, y).item(), requires_grad=True)
