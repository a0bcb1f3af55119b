"""A training function is handed its scheduler by a caller out of sight, and steps it at the
top of every iteration, before the optimizer: the schedule runs one step ahead."""

import torch.nn.functional as F


def do_train(model, data_loader, optimizer, scheduler, device):
    model.train()
    for images, targets in data_loader:
        scheduler.step()  # TL105
        loss = F.cross_entropy(model(images.to(device)), targets.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
