"""A face detector's box regression: when the offsets come back as a `(1, 1, H, W)` map, a
reshape to `(H, W)` drops the two leading axes of size 1. Every size is one of the tensor's
own, in its order, and the element count only matches when the dropped axes have size 1: a
squeeze, not a transpose."""

import torch


def bbreg(boundingbox, reg):
    if reg.shape[1] == 1:
        reg = torch.reshape(reg, (reg.shape[2], reg.shape[3]))
    w = boundingbox[:, 2] - boundingbox[:, 0] + 1
    h = boundingbox[:, 3] - boundingbox[:, 1] + 1
    b1 = boundingbox[:, 0] + reg[:, 0] * w
    b2 = boundingbox[:, 1] + reg[:, 1] * h
    return torch.stack([b1, b2], dim=1)


print(bbreg(torch.rand(5, 4), torch.rand(1, 1, 5, 4)))
