"""A robustness evaluation script: it loads a trained MNIST model and attacks each test batch
with PGD, whose `backward()` computes the gradient of the loss with respect to a perturbation
`delta`, never stepping an optimizer. The loop backpropagates, but trains nothing: its input
pipeline is not a training pipeline."""

import torch
import torch.nn.functional as F
from torchvision import datasets, transforms


def attack_pgd(model, X, y, epsilon, alpha, iters):
    delta = torch.zeros_like(X).uniform_(-epsilon, epsilon)
    delta.requires_grad = True
    for _ in range(iters):
        loss = F.cross_entropy(model(X + delta), y)
        loss.backward()
        grad = delta.grad.detach()
        delta.data = torch.clamp(delta + alpha * torch.sign(grad), -epsilon, epsilon)
        delta.grad.zero_()
    return delta.detach()


mnist_test = datasets.MNIST("../mnist-data", train=False, download=True, transform=transforms.ToTensor())
test_loader = torch.utils.data.DataLoader(mnist_test, batch_size=100, shuffle=False)
model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
model.load_state_dict(torch.load("model.pth"))
model.eval()
correct = 0
for X, y in test_loader:
    delta = attack_pgd(model, X, y, 0.3, 0.01, 40)
    with torch.no_grad():
        correct += (model(X + delta).argmax(1) == y).sum().item()
print(correct / len(mnist_test))
