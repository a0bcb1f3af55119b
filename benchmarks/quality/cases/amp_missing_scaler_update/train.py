import torch
from torch import nn
from torch.amp import GradScaler, autocast
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"

x = torch.randn(384, 20)
y = x[:, :3].sum(dim=1, keepdim=True) + 0.05 * torch.randn(384, 1)
train_loader = DataLoader(TensorDataset(x, y), batch_size=48, shuffle=True)

model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 1)).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
scaler = GradScaler(device)
criterion = nn.MSELoss()

for epoch in range(2):
    model.train()
    epoch_loss = 0.0
    for xb, yb in train_loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        with autocast(device_type=device, dtype=torch.bfloat16):
            loss = criterion(model(xb).float(), yb)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        epoch_loss += loss.item()
    print(f"epoch {epoch}: {epoch_loss / len(train_loader):.4f} scale={scaler.get_scale()}")
