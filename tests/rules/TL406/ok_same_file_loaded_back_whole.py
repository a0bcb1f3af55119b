import torch
import torchvision

resnet = torchvision.models.resnet18(pretrained=False)
torch.save(resnet, "model.ckpt")
model = torch.load("model.ckpt", weights_only=False)
