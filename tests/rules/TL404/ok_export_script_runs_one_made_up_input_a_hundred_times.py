"""A weight-export script restores a model and, when asked, times it: a hundred forwards on
the same tensor of ones, bound to a name first. It evaluates no data (a speed probe on a
made-up input), so TL404 has nothing to say; the same loop over a loader would be an
evaluation."""

import argparse
import time

import torch
from reid_toolkit.modeling import build_model

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--benchmark", action="store_true")
    args = parser.parse_args()
    model = build_model(args)
    model = model.to("cpu")
    model.eval()
    if args.benchmark:
        start = time.time()
        x = torch.ones(1, 3, 256, 128).to("cpu") * 255.0
        for i in range(100):
            out = model(x).view(-1).cpu().detach()
        print(out.shape, (time.time() - start) / 100)
    torch.save(model.state_dict(), "model.wts")
