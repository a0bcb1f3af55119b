import pandas as pd

def read_table(path):
    return pd.read_csv(path)
