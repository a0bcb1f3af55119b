"""A --learning-rate option defaulting to 3e-4, fed to Adam."""

import argparse
import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)

def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--learning-rate", type=float, default=3e-4)
    return p.parse_args()

def main():
    args = parse()
    return optim.Adam(model.parameters(), lr=args.learning_rate)
