"""Missing values are filled in place before the conversion."""

import pandas as pd
import torch

df = pd.read_csv("patients.csv")
df.fillna(0, inplace=True)
X = df[["age", "bmi"]].values
features = torch.tensor(X, dtype=torch.float32)
labels = torch.tensor(df["outcome"].values, dtype=torch.float32)
