"""A script reads patients.csv and converts the columns to a tensor with no dropna/fillna."""

import pandas as pd
import torch

df = pd.read_csv("patients.csv")
X = df[["age", "bmi"]].values
features = torch.tensor(X, dtype=torch.float32)  # TL303
labels = torch.tensor(df["outcome"].values, dtype=torch.float32)
