"""A face dataset reads its annotation lists (bounding boxes, landmarks, attributes) with
`sep=r"\\s+"`: runs of whitespace are one separator, so no field can be left empty and
`read_csv` makes no NaN from a gap."""

import pandas
import torch
from torch.utils.data import Dataset


class CelebA(Dataset):
    def __init__(self, root):
        with open(f"{root}/list_bbox_celeba.txt") as f:
            self.bbox = pandas.read_csv(f, sep=r"\s+", header=1, index_col=0)
        with open(f"{root}/list_landmarks_align_celeba.txt") as f:
            self.landmarks = pandas.read_csv(f, delim_whitespace=True, header=1)
        self.bbox = torch.as_tensor(self.bbox.values)
        self.landmarks = torch.as_tensor(self.landmarks.values)

    def __len__(self):
        return len(self.bbox)

    def __getitem__(self, i):
        return self.bbox[i].float(), self.landmarks[i].float()
