"""A CSV read without handling missing values; the only NaN check is on the loss, later."""

import pandas as pd
import torch

df = pd.read_csv("patients.csv")
X = df[["age", "bmi"]].values
features = torch.tensor(X, dtype=torch.float32)  # TL303
labels = torch.tensor(df["outcome"].values, dtype=torch.float32)

loss = torch.tensor(0.0)
if torch.isnan(loss):
    raise SystemExit("diverged")
