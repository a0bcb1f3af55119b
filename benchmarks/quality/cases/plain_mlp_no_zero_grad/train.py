import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

n_samples, n_features, n_classes = 256, 20, 4
features = torch.randn(n_samples, n_features)
labels = features[:, :n_classes].argmax(dim=1)
dataset = TensorDataset(features, labels)
loader = DataLoader(dataset, batch_size=32, shuffle=True)

model = nn.Sequential(
    nn.Linear(n_features, 64),
    nn.ReLU(),
    nn.Linear(64, n_classes),
)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

for epoch in range(2):
    running_loss = 0.0
    correct = 0
    for inputs, targets in loader:
        logits = model(inputs)
        loss = criterion(logits, targets)
        loss.backward()
        optimizer.step()
        running_loss += loss.item() * inputs.size(0)
        correct += (logits.argmax(dim=1) == targets).sum().item()
    print(f"epoch {epoch}: loss={running_loss / n_samples:.4f} acc={correct / n_samples:.3f}")
