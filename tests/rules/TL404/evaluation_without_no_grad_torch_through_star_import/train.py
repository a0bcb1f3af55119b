"""The script never imports torch itself: `torch` and `nn` come from `from utils import *`,
where the project's `utils` imports them. Its evaluation loop runs with gradients on."""
# ruff: noqa: F403, F405

from utils import *

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()
train_x, train_y = torch.randn(128, 8), torch.randint(0, 2, (128,))
val_x = torch.randn(32, 8)


def evaluate(x):
    model.eval()
    for xb in batches(x, 8):
        print(model(xb).argmax(1))  # TL404
    model.train()


for epoch in range(3):
    for xb, yb in zip(batches(train_x, 16), batches(train_y, 16)):
        optimizer.zero_grad()
        criterion(model(xb), yb).backward()
        optimizer.step()
    evaluate(val_x)
