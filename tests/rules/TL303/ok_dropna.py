"""The CSV is read with .dropna()."""

import pandas as pd
import torch

df = pd.read_csv("patients.csv").dropna()
X = df[["age", "bmi"]].values
features = torch.tensor(X, dtype=torch.float32)
labels = torch.tensor(df["outcome"].values, dtype=torch.float32)
