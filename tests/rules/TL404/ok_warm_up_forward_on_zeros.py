"""A detector's `test()` runs the model once on a tensor of zeros to warm the device up (the
real evaluation loop below it is under `no_grad`), and training calls it for the last and the
best checkpoint. The warm-up call evaluates no data: one throwaway graph, not an evaluation
pass."""

import torch
import torch.nn as nn


def test(model, batches, imgsz=64):
    model.eval()
    model(torch.zeros(1, 3, imgsz, imgsz))  # run once
    seen = 0
    for img in batches:
        with torch.no_grad():
            out = model(img)
        seen += out.shape[0]
    return seen


def attempt_load(path):
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    model.load_state_dict(torch.load(path))
    return model


batches = [torch.randn(2, 3, 64, 64) for _ in range(3)]
for m in ("last.pt", "best.pt"):
    print(test(attempt_load(m), batches))
