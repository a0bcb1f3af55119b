import torch
import torchvision

resnet = torchvision.models.resnet18(num_classes=10)
parallel = torch.nn.DataParallel(resnet)
torch.save(parallel, "resnet.pt")  # TL406
torch.save(obj=torch.nn.Linear(3, 3), f="linear.pt")  # TL406


def resume(path):
    checkpoint = torch.load(path)
    resnet.load_state_dict(checkpoint["model"])
