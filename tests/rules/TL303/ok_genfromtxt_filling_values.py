"""np.genfromtxt with filling_values: no NaN comes out."""

import numpy as np
import torch

raw = np.genfromtxt("t.csv", delimiter=",", filling_values=0.0)
x = torch.from_numpy(raw).float()
