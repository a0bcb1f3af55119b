# %% [markdown]
# ## Baseline MLP for the tabular challenge (synthetic data)

# %%
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
X_train = torch.randn(500, 12)
y_train = (X_train[:, 0] - X_train[:, 1] > 0).long()
X_test = torch.randn(100, 12)

# %%
class Baseline(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 48)
        self.fc2 = nn.Linear(48, 48)
        self.fc3 = nn.Linear(48, 2)
        for layer in (self.fc1, self.fc2, self.fc3):
            nn.init.constant_(layer.weight, 0.05)
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


model = Baseline()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)

# %%
for epoch in range(2):
    perm = torch.randperm(len(X_train))
    for i in range(0, len(perm), 50):
        idx = perm[i:i + 50]
        opt.zero_grad()
        loss = F.cross_entropy(model(X_train[idx]), y_train[idx])
        loss.backward()
        opt.step()
    print(epoch, round(loss.item(), 4))

# %%
model.eval()
test_pred = model(X_test).argmax(dim=1)
print("predicted class balance:", test_pred.float().mean().item())
