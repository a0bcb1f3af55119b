"""A model built by factories out of sight, then wrapped and put in eval mode: what is done with
it says it is a model, and the loop over it only evaluates, with autograd on."""
import torch
from nets import build_large, build_small


def evaluate(name, loader):
    if "large" in name:
        model = build_large(name)
    else:
        model = build_small(name)
    model = torch.nn.parallel.DistributedDataParallel(model.cuda(), device_ids=[0])
    model.eval()
    for batch in loader:
        outputs = model(batch["x"].cuda())  # TL404
        print(outputs.argmax(1))
