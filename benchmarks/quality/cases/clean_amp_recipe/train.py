"""The documented AMP recipe: scaled backward, unscale before clipping, step, update."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

device = "cuda" if torch.cuda.is_available() else "cpu"
amp_dtype = torch.float16 if device == "cuda" else torch.bfloat16


def train_one_epoch(model, loader, optimizer, scheduler, scaler, criterion, max_norm=1.0):
    model.train()
    running = 0.0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type=device, dtype=amp_dtype):
            loss = criterion(model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        running += loss.item()
    return running / len(loader)


def main():
    torch.manual_seed(0)
    x = torch.randn(512, 32)
    y = torch.randint(0, 4, (512,))
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    model = nn.Sequential(nn.Linear(32, 128), nn.GELU(), nn.Linear(128, 4)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=2 * len(loader))
    scaler = torch.amp.GradScaler(device)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        print(f"epoch {epoch}: {train_one_epoch(model, loader, optimizer, scheduler, scaler, criterion):.4f}")


if __name__ == "__main__":
    main()
