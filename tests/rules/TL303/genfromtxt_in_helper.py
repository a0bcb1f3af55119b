"""A helper loads a table with np.genfromtxt (missing cells become NaN) and converts it to tensors."""

import numpy as np
import torch

def load(path):
    raw = np.genfromtxt(path, delimiter=",", skip_header=1)
    x, y = raw[:, :-1], raw[:, -1]
    return torch.from_numpy(x).float(), torch.from_numpy(y).float()  # TL303

def main():
    x, y = load("table.csv")
    print(x.shape, y.shape)

main()
