"""Token classification with a small bidirectional LSTM, DDP + gradient accumulation."""
import os

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

VOCAB, TAGS, SEQ = 120, 5, 16
CONFIG = {"epochs": 3, "batch_size": 16, "accum_steps": 4, "lr": 2e-3, "clip": 1.0}


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 32)
        self.lstm = nn.LSTM(32, 32, batch_first=True, bidirectional=True)
        self.proj = nn.Linear(64, TAGS)

    def forward(self, tokens):
        h, _ = self.lstm(self.embed(tokens))
        return self.proj(h)


def tagging_data(n, seed):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, VOCAB, (n, SEQ), generator=g)
    tags = (tokens % TAGS + torch.roll(tokens, 1, dims=1) % 2) % TAGS
    return TensorDataset(tokens, tags)


def run(rank, world_size):
    torch.manual_seed(rank + 100)
    data = tagging_data(1024, seed=3)
    sampler = DistributedSampler(data, num_replicas=world_size, rank=rank, shuffle=True, seed=1)
    loader = DataLoader(data, batch_size=CONFIG["batch_size"], sampler=sampler)

    torch.manual_seed(0)
    model = DDP(Tagger())
    optimizer = torch.optim.AdamW(model.parameters(), lr=CONFIG["lr"])
    criterion = nn.CrossEntropyLoss()
    accum = CONFIG["accum_steps"]

    for epoch in range(CONFIG["epochs"]):
        sampler.set_epoch(epoch)
        model.train()
        epoch_loss = 0.0
        for i, (tokens, tags) in enumerate(loader):
            logits = model(tokens)
            loss = criterion(logits.reshape(-1, TAGS), tags.reshape(-1)) / accum
            loss.backward()
            epoch_loss += loss.item()
            if (i + 1) % accum == 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), CONFIG["clip"])
                optimizer.zero_grad()
                optimizer.step()
        if rank == 0:
            print(f"epoch {epoch} loss {epoch_loss * accum / len(loader):.4f}")


if __name__ == "__main__":
    dist.init_process_group(backend="gloo")
    try:
        run(dist.get_rank(), dist.get_world_size())
    finally:
        dist.barrier()
        dist.destroy_process_group()
