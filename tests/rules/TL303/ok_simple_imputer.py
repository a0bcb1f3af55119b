"""The columns go through sklearn's SimpleImputer."""

from sklearn.impute import SimpleImputer
import pandas as pd
import torch

df = pd.read_csv("patients.csv")
X = SimpleImputer().fit_transform(df[["age", "bmi"]].values)
features = torch.tensor(X, dtype=torch.float32)
labels = torch.tensor(df["outcome"].values, dtype=torch.float32)
