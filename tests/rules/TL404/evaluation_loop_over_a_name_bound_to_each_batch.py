"""The same kind of script scores the restored model on a folder of images: each batch is
bound to a name before the forward, and the loop keeps every graph for nothing."""

import argparse

import torch
from reid_toolkit.data import load_batches
from reid_toolkit.modeling import build_model

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", default="images/")
    args = parser.parse_args()
    model = build_model(args)
    model = model.to("cpu")
    model.eval()
    feats = []
    for batch in load_batches(args.images):
        x = batch.float() / 255.0
        feats.append(model(x).view(x.shape[0], -1).cpu().detach())  # TL404
    print(torch.cat(feats).shape)
