"""A tabular dataset reads sensor measurements with pandas and turns the feature columns into
the model's input as read: an empty cell becomes NaN in the input batch."""

import pandas as pd
import torch
from torch.utils.data import Dataset


class Sensors(Dataset):
    def __init__(self, csv_path: str) -> None:
        self.table = pd.read_csv(csv_path)

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, i: int):
        rows = self.table.iloc[[i]]
        features = torch.from_numpy(rows[["temperature", "humidity", "pressure"]].values).float()  # TL303
        return features, torch.tensor(int(rows["label"].iloc[0]))
