import engine
import torch

model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
criterion = torch.nn.CrossEntropyLoss()
loader = [(torch.randn(8, 10), torch.randint(0, 2, (8,))) for _ in range(20)]

for epoch in range(3):
    for x, y in loader:
        loss = criterion(model(x), y)
        norm = engine.step(model, optimizer, loss)
