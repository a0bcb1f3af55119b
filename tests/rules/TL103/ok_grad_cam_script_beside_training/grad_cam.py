"""A Grad-CAM script backpropagates each image's top class score to capture, with a hook,
the gradients of the first convolution. It clears the model's gradients first, but nothing
is trained, so no optimizer step is missing (the project trains in `train.py`)."""

import torch

from train import build_model

model = build_model()
model.load_state_dict(torch.load("model.pt"))
images = [torch.randn(1, 3, 32, 32) for _ in range(4)]
gradients = []
model[0].register_full_backward_hook(lambda module, grad_in, grad_out: gradients.append(grad_out[0]))

for img in images:
    output = torch.softmax(model(img), dim=-1)
    one_hot = torch.zeros_like(output)
    one_hot[0, output.argmax(dim=1)] = 1
    score = torch.sum(one_hot * output)
    model.zero_grad()
    score.backward(retain_graph=True)
    cam = gradients[-1].mean(dim=(2, 3))
