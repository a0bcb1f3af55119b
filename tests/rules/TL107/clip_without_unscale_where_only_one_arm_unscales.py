"""AMP picked by a flag, twice: the scaled backward is followed by `unscale_` on its arm and the
plain backward sits on the other arm, so the clip after the `if` sees true gradients either
way. The second loop forgets `unscale_` on the AMP arm."""

import torch
import torch.nn as nn


def train(loader, mixed_precision: bool, clip: float) -> None:
    model = nn.Linear(4, 4)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scaler = torch.cuda.amp.GradScaler(enabled=mixed_precision)
    for x in loader:
        with torch.autocast("cuda", enabled=mixed_precision):
            loss = (model(x) - x).pow(2).mean()
        if mixed_precision:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
        else:
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)  # ok: unscaled on the AMP arm
        if mixed_precision:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        optimizer.zero_grad()


def train_forgetting(loader, mixed_precision: bool, clip: float) -> None:
    model = nn.Linear(4, 4)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scaler = torch.cuda.amp.GradScaler(enabled=mixed_precision)
    for x in loader:
        with torch.autocast("cuda", enabled=mixed_precision):
            loss = (model(x) - x).pow(2).mean()
        if mixed_precision:
            scaler.scale(loss).backward()
        else:
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)  # TL107
        if mixed_precision:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        optimizer.zero_grad()
