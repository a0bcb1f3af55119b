"""Knowledge distillation: the frozen teacher runs under `torch.no_grad()`, the student trains."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32)
teacher = nn.Sequential(nn.Linear(20, 128), nn.ReLU(), nn.Linear(128, 3)).eval()
student = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 3))
optimizer = torch.optim.Adam(student.parameters(), lr=1e-3)

for epoch in range(3):
    for x, y in loader:
        with torch.no_grad():
            soft = F.softmax(teacher(x) / 2.0, dim=1)  # ok: the teacher is not optimised
        logits = student(x)
        loss = F.cross_entropy(logits, y) + F.kl_div(
            F.log_softmax(logits / 2.0, dim=1), soft, reduction="batchmean"
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
