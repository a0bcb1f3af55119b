"""A scheduler library's demo: it steps the optimizer of one dummy parameter without any
backward, only to print the learning rate each epoch gets."""

import torch
from torch.optim import SGD
from torch.optim.lr_scheduler import StepLR

if __name__ == "__main__":
    params = [torch.nn.Parameter(torch.randn(2, 2))]
    optimizer = SGD(params, lr=0.1)
    scheduler = StepLR(optimizer, step_size=10, gamma=0.1)
    for epoch in range(1, 20):
        scheduler.step()
        print(epoch, optimizer.param_groups[0]["lr"])
        optimizer.step()
