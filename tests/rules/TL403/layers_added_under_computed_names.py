"""Layers added with `add_module` under names computed at run time (in a helper `__init__`
calls) are still the model's layers: its batch norm makes a pass in training mode wrong."""
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class Net(nn.Module):
    def __init__(self, cfgs):
        super().__init__()
        self._make_layers(cfgs)

    def _make_layers(self, cfgs):
        for name, (cin, cout) in cfgs.items():
            self.add_module(name, Block(cin, cout))
        self.add_module(f"side{len(cfgs)}", nn.Conv2d(cout, 1, 1))

    def forward(self, x):
        for name in self._modules:
            x = getattr(self, name)(x)
        return x


model = Net({"stage1": (3, 16), "stage2": (16, 32)})
model.load_state_dict(torch.load("checkpoint.pth"))
model.train()
with torch.no_grad():
    y = model(torch.randn(1, 3, 64, 64))  # TL403
print(y.mean())
