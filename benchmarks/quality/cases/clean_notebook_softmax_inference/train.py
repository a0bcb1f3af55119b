# %% [markdown]
# # Prototype: 3-class classifier with dropout
# Cells are marked with `# %%` so the file runs as a script too.

# %%
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
X = torch.randn(360, 10)
Y = torch.randint(0, 3, (360,))
X[torch.arange(360), Y] += 2.0


# %%
class Net(nn.Module):
    def __init__(self, p=0.2):
        super().__init__()
        self.fc1 = nn.Linear(10, 48)
        self.fc2 = nn.Linear(48, 3)
        self.drop = nn.Dropout(p)
        self.p = p

    def forward(self, x):
        h = self.drop(F.relu(self.fc1(x)))
        h = F.dropout(h, p=self.p, training=self.training)
        return self.fc2(h)


net = Net()
opt = torch.optim.Adam(net.parameters(), lr=1e-3)

# %%
for epoch in range(2):
    net.train()
    perm = torch.randperm(len(X))
    epoch_loss = 0.0
    for i in range(0, len(X), 36):
        idx = perm[i:i + 36]
        opt.zero_grad()
        loss = F.cross_entropy(net(X[idx]), Y[idx])
        loss.backward()
        opt.step()
        epoch_loss += float(loss)
    print(epoch, round(epoch_loss / 10, 4))

# %%
net.eval()
with torch.no_grad():
    probs = F.softmax(net(X[:5]), dim=-1)
print(probs.argmax(dim=-1).tolist(), probs.max(dim=-1).values.tolist())
