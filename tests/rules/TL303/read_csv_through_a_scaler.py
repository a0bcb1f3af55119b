"""CSV columns go through a scaler (which keeps NaN) and then into a tensor."""

from sklearn.preprocessing import StandardScaler
import pandas as pd
import torch

df = pd.read_csv("patients.csv")
X = StandardScaler().fit_transform(df[["age", "bmi"]].values)
features = torch.tensor(X, dtype=torch.float32)  # TL303
labels = torch.tensor(df["outcome"].values, dtype=torch.float32)
