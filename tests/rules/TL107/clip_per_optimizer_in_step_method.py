"""A configurable training step scales the loss for backward in one method and, in another,
loops over its optimizers, clipping each one's parameter groups (with the older
`clip_grad_norm` spelling) before stepping through the scaler. Nothing in the project
unscales the gradients, so every clip compares scaled gradients with the threshold."""
import torch
import torch.nn as nn
from torch.cuda.amp import GradScaler


class ConfigurableStep:
    def __init__(self, model: nn.Module, clip_grad_eps: float = 1.0) -> None:
        self.model = model
        self.optimizers = [torch.optim.AdamW(model.parameters(), lr=1e-4)]
        self.scaler = GradScaler()
        self.clip_grad_eps = clip_grad_eps

    def do_forward_backward(self, batch):
        with torch.autocast("cuda"):
            loss = self.model(batch).mean()
        self.scaler.scale(loss).backward()

    def do_step(self):
        for opt in self.optimizers:
            if self.clip_grad_eps:
                for group in opt.param_groups:
                    torch.nn.utils.clip_grad_norm(group["params"], self.clip_grad_eps)  # TL107
            self.scaler.step(opt)
            self.scaler.update()
            opt.zero_grad()
