"""The training script's loss helper log-softmaxes the upsampled prediction before the
project criterion, which applies cross-entropy (and so log_softmax) again."""
import torch
import torch.nn as nn

from losses import PixelCrossEntropy


def compute_loss(pred, label):
    criterion = PixelCrossEntropy().cuda()
    return criterion(pred, label.long())  # TL201


def train(model, loader, steps):
    optimizer = torch.optim.SGD(model.parameters(), lr=2.5e-4, momentum=0.9)
    upsample = nn.Upsample(size=(321, 321), mode="bilinear")
    log_probs = nn.LogSoftmax(dim=1)
    for step, (images, labels) in zip(range(steps), loader):
        optimizer.zero_grad()
        loss = compute_loss(log_probs(upsample(model(images))), labels)
        loss.backward()
        optimizer.step()
