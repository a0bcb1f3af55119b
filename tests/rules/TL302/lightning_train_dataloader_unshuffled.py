"""A LightningModule's train_dataloader() returns a DataLoader without shuffle."""

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset


class Model(L.LightningModule):
    def train_dataloader(self):
        return DataLoader(TensorDataset(torch.randn(64, 4), torch.arange(64) // 32), batch_size=8)  # TL302

    def val_dataloader(self):
        return DataLoader(TensorDataset(torch.randn(16, 4), torch.arange(16) // 8), batch_size=8)
