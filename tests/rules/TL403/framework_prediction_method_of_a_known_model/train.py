"""Builds the framework around the model and trains it."""

import torch
from torch.utils.data import DataLoader, TensorDataset

from framework import BagRE
from model import BagAttention

data = TensorDataset(torch.randn(64, 16), torch.randint(0, 5, (64,)))
framework = BagRE(BagAttention(), DataLoader(data, batch_size=8, shuffle=True))
framework.train_model()
