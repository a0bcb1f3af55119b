"""torch.nan_to_num applied to the tensor right after the conversion."""

import pandas as pd
import torch

df = pd.read_csv("patients.csv")
X = df[["age", "bmi"]].values
features = torch.tensor(X, dtype=torch.float32)
labels = torch.tensor(df["outcome"].values, dtype=torch.float32)
features = torch.nan_to_num(features)
