"""The same step adds the loss's value, cut from the graph, into the device statistic; a
tensor made inside the step may take the loss itself (it dies with the call)."""

import torch


class DeviceStats:
    def __init__(self, device):
        self.values = {"average_loss": torch.zeros(1, device=device)}

    def stat(self, name):
        return self.values[name]


def take_training_step(model, criterion, batch, scaler, stats):
    with torch.autocast("cuda", dtype=torch.float16):
        scores = model(batch["input_ids"])
        loss = criterion(scores.view(-1, scores.size(-1)), batch["labels"].view(-1))
    scaler.scale(loss).backward()
    stats.stat("average_loss").add_(loss.detach())
    total = torch.zeros(1, device=loss.device)
    total.add_(loss)
    return total


def train(model, loader, steps):
    criterion = torch.nn.CrossEntropyLoss(ignore_index=-1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    scaler = torch.cuda.amp.GradScaler()
    stats = DeviceStats("cuda")
    for step, batch in zip(range(steps), loader):
        take_training_step(model, criterion, batch, scaler, stats)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
