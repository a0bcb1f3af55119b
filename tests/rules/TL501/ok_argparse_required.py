"""A required --learning-rate option: its value is only known at run time."""

import argparse
import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)

def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--learning-rate", type=float, required=True)
    return p.parse_args()

def main():
    args = parse()
    return optim.Adam(model.parameters(), lr=args.learning_rate)
