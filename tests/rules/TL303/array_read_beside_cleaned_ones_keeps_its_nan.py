"""A dataset reads several arrays from one data cube and replaces their missing values with
zeros, but the weather array read from the same cube goes to the model as read: its NaN
reach the loss."""

import numpy as np
import torch
import xarray as xr
from torch.utils.data import Dataset


class CubeDataset(Dataset):
    def __init__(self, paths):
        self.paths = paths

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        cube = xr.open_dataset(self.paths[i])
        satellite = cube[["red", "green", "blue", "nir"]].to_array().values.astype(np.float32)
        target = cube[["ndvi"]].to_array().values.astype(np.float32)
        weather = cube[["t2m", "tp", "ssr"]].to_array().values.astype(np.float32)  # TL303
        mask = cube["cloud_mask"].values != 0
        satellite = np.where(np.isnan(satellite), np.float32(0), satellite)
        target = np.where(np.isnan(target), np.float32(0), target)
        return {
            "dynamic": torch.from_numpy(satellite),
            "weather": torch.from_numpy(weather),
            "target": torch.from_numpy(target),
            "mask": torch.from_numpy(mask),
        }
