import torch
from torch.utils.data import DataLoader, TensorDataset

def loaders():
    ds = TensorDataset(torch.randn(64, 4), torch.arange(64) // 32)
    return DataLoader(ds, batch_size=8, shuffle=True), DataLoader(ds, batch_size=64)
