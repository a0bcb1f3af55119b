"""A parse() helper whose --learning-rate option defaults to 2.0, fed to Adam in main()."""

import argparse
import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)

def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--learning-rate", type=float, default=2.0)
    return p.parse_args()

def main():
    args = parse()
    return optim.Adam(model.parameters(), lr=args.learning_rate)  # TL501
