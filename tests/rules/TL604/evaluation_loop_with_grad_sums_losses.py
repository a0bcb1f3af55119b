"""The test pass runs the model with gradients enabled and sums the loss tensors it returns:
each batch's graph stays referenced from the running totals until the end of evaluation."""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 4))
criterion = nn.CrossEntropyLoss()
test_batches = [(torch.randn(32, 8), torch.randint(0, 4, (32,))) for _ in range(10)]


def test():
    model.eval()
    total_loss, total_logits = 0, 0
    for x, y in test_batches:
        logits = model(x)
        loss = criterion(logits, y)
        total_loss += loss  # TL604
        total_logits = total_logits + logits.abs().mean()  # TL604
    print(total_loss / len(test_batches), total_logits)


test()
