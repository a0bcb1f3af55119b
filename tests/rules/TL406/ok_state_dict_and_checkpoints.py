import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
torch.save(model.state_dict(), "weights.pt")
torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3}, "ckpt.pt")
torch.save(optimizer, "optimizer.pt")
torch.save(torch.randn(3), "tensor.pt")
scripted = torch.jit.script(model)
torch.save(scripted, "scripted.pt")


def save(obj, path):
    torch.save(obj, path)


save([1, 2, 3], "list.pt")
