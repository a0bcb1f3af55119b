"""An adversarial attack (Jitter) scores the softmax of a frozen classifier against one-hot
labels with `MSELoss` and differentiates that objective with respect to the images, never
the weights: it is not a loss the classifier is trained with."""

import torch
import torch.nn as nn
import torch.nn.functional as F


def jitter(model, images, labels, eps=8 / 255, alpha=2 / 255, steps=10):
    loss = nn.MSELoss(reduction="none")
    adv_images = images.clone().detach()
    for _ in range(steps):
        adv_images.requires_grad = True
        logits = model(adv_images)
        hat_z = F.softmax(logits, dim=1)
        y = F.one_hot(labels, num_classes=logits.shape[-1]).float()
        cost = loss(hat_z, y).mean(dim=1).mean()
        grad = torch.autograd.grad(cost, adv_images, retain_graph=False, create_graph=False)[0]
        adv_images = adv_images.detach() + alpha * grad.sign()
        delta = torch.clamp(adv_images - images, min=-eps, max=eps)
        adv_images = torch.clamp(images + delta, min=0, max=1).detach()
    return adv_images


net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 10)).eval()
adv = jitter(net, torch.rand(4, 3, 8, 8), torch.randint(0, 10, (4,)))
