"""backward() computes input gradients for a saliency map; there is no optimizer, so this is not a
training loop.
"""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
model.load_state_dict(torch.load("classifier.pt"))
model.eval()
images = torch.randn(16, 20)
saliency = []
for image in images:
    image = image.unsqueeze(0).requires_grad_(True)
    score = model(image).max()
    score.backward()  # ok: input gradients, no optimizer
    saliency.append(image.grad.abs().squeeze(0))
