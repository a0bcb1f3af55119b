"""Cuts MRI volumes into patches, normalised to zero mean and unit variance, and writes them as
`.npy` files that the training dataset reads back."""

import numpy as np


def save_patches(volumes: list, out_dir: str) -> list:
    paths = []
    for i, volume in enumerate(volumes):
        patch = (volume - volume.mean()) / (volume.std() + 1e-8)
        path = f"{out_dir}/patch_{i}.npy"
        np.save(path, patch.astype(np.float32))
        paths.append(path)
    return paths
