"""Full-batch logistic regression fitted with L-BFGS."""
import torch
import torch.nn as nn

torch.manual_seed(0)
X = torch.randn(300, 5)
true_w = torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0])
y = (X @ true_w + 0.3 * torch.randn(300) > 0).float()

model = nn.Linear(5, 1)
optimizer = torch.optim.LBFGS(model.parameters(), max_iter=20, history_size=10)
criterion = nn.BCEWithLogitsLoss()


def closure():
    optimizer.zero_grad()
    loss = criterion(model(X).squeeze(1), y)
    loss.backward()
    return loss


for epoch in range(2):
    loss = optimizer.step(closure)
    with torch.no_grad():
        acc = ((model(X).squeeze(1) > 0).float() == y).float().mean()
    print(f"epoch {epoch}: loss {loss.item():.4f} acc {acc.item():.3f}")
