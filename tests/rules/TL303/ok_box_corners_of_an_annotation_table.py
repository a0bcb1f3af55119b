"""A detection dataset reads its annotations with pandas and turns each image's box corners
(`xmin`, `ymin`, `xmax`, `ymax`) into the target boxes. Those are the targets a detector
regresses, written by the annotation tool; the image pixels, the inputs, come from files."""

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch.utils.data import Dataset


class BirdBoxes(Dataset):
    def __init__(self, csv_path: str) -> None:
        self.annotations = pd.read_csv(csv_path)
        self.images = sorted(self.annotations["image_path"].unique())

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        path = self.images[i]
        image = torch.from_numpy(np.array(Image.open(path))).permute(2, 0, 1).float() / 255
        rows = self.annotations[self.annotations["image_path"] == path]
        boxes = torch.from_numpy(rows[["xmin", "ymin", "xmax", "ymax"]].values).float()
        return image, boxes
