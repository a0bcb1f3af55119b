"""An io_utils module reads the CSV; train.py converts the table to a tensor."""

import torch
from io_utils import read_table

df = read_table("a.csv")
x = torch.tensor(df.values, dtype=torch.float32)  # TL303
