"""A training function is handed its scheduler by a caller out of sight and steps it after
the optimizer; another hand-written scheduler is stepped with the update count, as such
libraries' schedulers are."""

import torch.nn.functional as F


def do_train(model, data_loader, optimizer, scheduler, warmup, device):
    model.train()
    for step, (images, targets) in enumerate(data_loader):
        warmup.step(step)
        loss = F.cross_entropy(model(images.to(device)), targets.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
