"""The same dataset with every measurement cleared of NaN; the cloud mask (a comparison) and
the land-cover codes (cast to integers) cannot hold NaN and need nothing."""

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
        weather = cube[["t2m", "tp", "ssr"]].to_array().values.astype(np.float32)
        mask = cube["cloud_mask"].values != 0  # ok: a comparison
        landcover = cube["landcover"].values.astype("int64")  # ok: integer codes
        satellite = np.where(np.isnan(satellite), np.float32(0), satellite)
        target = np.where(np.isnan(target), np.float32(0), target)
        weather = np.nan_to_num(weather)
        return {
            "dynamic": torch.from_numpy(satellite),
            "weather": torch.from_numpy(weather),
            "target": torch.from_numpy(target),
            "mask": torch.from_numpy(mask),
            "landcover": torch.from_numpy(landcover),
        }
