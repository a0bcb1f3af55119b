"""A loss attribute re-assigned to itself moved to the GPU (`self.ce_loss = self.ce_loss.cuda()`) keeps its kind."""
import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.ce_loss = nn.CrossEntropyLoss()
        self.fc = nn.Linear(8, 10)

    def forward(self, x, targets=None, mask=None):
        if x.is_cuda:
            self.ce_loss = self.ce_loss.cuda()
        prediction = self.fc(x)
        pred_cls = torch.sigmoid(prediction[:, 5:])
        if targets is not None:
            pred_cls = pred_cls[mask == 1]
            loss = self.ce_loss(pred_cls, targets)  # TL206
            return loss
        return pred_cls
