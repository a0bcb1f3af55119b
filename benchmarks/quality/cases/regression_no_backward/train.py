import torch
import torch.nn as nn
import torch.optim as optim

torch.manual_seed(42)

# synthetic regression problem: y = 3*x0 - 2*x1 + noise
X = torch.randn(400, 4)
y = (3 * X[:, 0] - 2 * X[:, 1] + 0.1 * torch.randn(400)).unsqueeze(1)

model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
opt = optim.RMSprop(model.parameters(), lr=1e-3)
mse = nn.MSELoss()
batch_size = 50

for epoch in range(2):
    perm = torch.randperm(X.size(0))
    epoch_loss = 0.0
    for start in range(0, X.size(0), batch_size):
        idx = perm[start:start + batch_size]
        opt.zero_grad()
        pred = model(X[idx])
        loss = mse(pred, y[idx])
        opt.step()
        epoch_loss += loss.item() * len(idx)
    print(f"epoch {epoch}: mse {epoch_loss / X.size(0):.4f}")
