"""MSELoss on scores that the same loop rounds and compares with the labels to count correct
predictions.
"""

import torch.nn as nn

def fit(model, loader):
    criterion = nn.MSELoss()
    for xb, yb in loader:
        scores = model(xb)
        loss = criterion(scores.squeeze(1), yb.float())  # TL205
        correct = (scores.squeeze(1).round() == yb).sum()
