"""Helpers; `from utils import *` also hands out the modules imported here."""

import torch  # noqa: F401
import torch.nn as nn  # noqa: F401


def batches(data, size):
    for i in range(0, len(data), size):
        yield data[i : i + size]
