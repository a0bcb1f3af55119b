"""A detection script builds its network with a project factory that picks the class from a
config, restores a checkpoint into it and runs it over a folder of images, but never calls
`net.eval()`: the network's batch norm (whatever class the config names) normalises each
batch with its own statistics and its dropout stays on."""

import argparse

import torch

from models import build_model, load_checkpoint

parser = argparse.ArgumentParser()
parser.add_argument("--arch", default="resnet_lane")
parser.add_argument("--checkpoint", required=True)
args = parser.parse_args()

net = build_model(args.arch)
load_checkpoint(net=net, filename=args.checkpoint)
images = torch.load("images.pt")
with torch.no_grad():
    for batch in images.split(8):
        masks = net(batch).argmax(1)  # TL403
        torch.save(masks, "masks.pt")
