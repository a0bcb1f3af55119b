"""Mixed-precision training with bfloat16 autocast and a GradScaler."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

device = "cuda" if torch.cuda.is_available() else "cpu"
amp_dtype = torch.float16 if device == "cuda" else torch.bfloat16


def build_model():
    return nn.Sequential(
        nn.Linear(64, 256), nn.GELU(), nn.Linear(256, 256), nn.GELU(), nn.Linear(256, 10)
    ).to(device)


def train_one_epoch(model, loader, optimizer, scaler, criterion):
    model.train()
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type=device, dtype=amp_dtype):
            logits = model(x)
            loss = criterion(logits, y)
        scaler.scale(loss).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
    return loss.item()


def main():
    torch.manual_seed(0)
    x = torch.randn(512, 64)
    y = torch.randint(0, 10, (512,))
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    model = build_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler(device)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        print(epoch, train_one_epoch(model, loader, optimizer, scaler, criterion))


if __name__ == "__main__":
    main()
