"""`state_dict` without the call: the bound method is pickled, and the whole object with it."""
import torch
import torch.nn as nn


class Framework:
    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.optim = torch.optim.Adam(model.parameters())

    def save(self, path: str) -> None:
        torch.save(self.model.state_dict, f"{path}/model.pt")  # TL406
        torch.save(self.optim.state_dict(), f"{path}/optim.pt")
