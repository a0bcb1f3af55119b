"""A masked-patch loss bins the patch colours, one-hot encodes the bins and regresses the
predictions onto them with MSE; `einops.rearrange` moving the axes keeps them class labels."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from einops import rearrange


class MPPLoss(nn.Module):
    def __init__(self, bits: int, channels: int) -> None:
        super().__init__()
        self.bits = bits
        self.channels = channels

    def forward(self, predicted, target, mask):
        bins = torch.bucketize(target.mean(dim=-1), torch.linspace(0, 1, self.bits - 1))
        onehot = F.one_hot(bins, self.bits)
        onehot = rearrange(onehot, "b n c k -> b n (c k)")
        return F.mse_loss(predicted[mask], onehot[mask].float())  # TL205
