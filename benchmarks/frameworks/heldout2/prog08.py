"""Tiny character-level transformer LM with DistributedDataParallel (torchrun)."""
import math
import os
import tempfile
import time

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

block_size = 32
batch_size = 16
n_embd = 64
n_head = 4
n_layer = 2
vocab_size = 48
max_iters = 60
eval_interval = 20
learning_rate = 1e-3
warmup_iters = 10


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = nn.Embedding(block_size, n_embd)
        layer = nn.TransformerEncoderLayer(n_embd, n_head, 4 * n_embd, dropout=0.1,
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, n_layer)
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.register_buffer("causal_mask", nn.Transformer.generate_square_subsequent_mask(block_size))

    def forward(self, idx, targets=None):
        t = idx.size(1)
        pos = torch.arange(t, device=idx.device)
        x = self.tok_emb(idx) + self.pos_emb(pos)
        x = self.blocks(x, mask=self.causal_mask[:t, :t], is_causal=True)
        logits = self.lm_head(self.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss

    def configure_optimizers(self, weight_decay, lr):
        decay = [p for p in self.parameters() if p.dim() >= 2]
        no_decay = [p for p in self.parameters() if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))


def make_corpus(n_tokens=20000, seed=0):
    g = torch.Generator().manual_seed(seed)
    pattern = torch.randint(0, vocab_size, (97,), generator=g)
    data = pattern.repeat(n_tokens // 97 + 1)[:n_tokens].clone()
    noise = torch.rand(n_tokens, generator=g) < 0.05
    data[noise] = torch.randint(0, vocab_size, (int(noise.sum()),), generator=g)
    return data


def get_batch(data, gen):
    ix = torch.randint(len(data) - block_size - 1, (batch_size,), generator=gen)
    x = torch.stack([data[i:i + block_size] for i in ix])
    y = torch.stack([data[i + 1:i + 1 + block_size] for i in ix])
    return x, y


def get_lr(it):
    if it < warmup_iters:
        return learning_rate * (it + 1) / warmup_iters
    ratio = (it - warmup_iters) / max(1, max_iters - warmup_iters)
    return 0.1 * learning_rate + 0.45 * learning_rate * (1 + math.cos(math.pi * ratio))


@torch.no_grad()
def estimate_loss(model, data, gen, iters=5):
    model.eval()
    losses = torch.zeros(iters)
    for k in range(iters):
        x, y = get_batch(data, gen)
        _, loss = model(x, y)
        losses[k] = loss.item()
    model.train()
    return losses.mean().item()


def main():
    dist.init_process_group(backend="gloo")
    rank = dist.get_rank()
    master = rank == 0
    torch.manual_seed(1337)
    data_gen = torch.Generator().manual_seed(1337 + rank)

    corpus = make_corpus()
    n = int(0.9 * len(corpus))
    train_data, val_data = corpus[:n], corpus[n:]

    model = TinyLM()
    model = DDP(model)
    raw_model = model.module
    optimizer = raw_model.configure_optimizers(weight_decay=0.1, lr=learning_rate)

    t0 = time.time()
    for it in range(max_iters):
        lr = get_lr(it)
        for group in optimizer.param_groups:
            group["lr"] = lr

        xb, yb = get_batch(train_data, data_gen)
        _, loss = raw_model(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

        if (it + 1) % eval_interval == 0:
            val_loss = estimate_loss(model, val_data, data_gen)
            if master:
                print(f"iter {it + 1}: train {loss.item():.3f} val {val_loss:.3f} lr {lr:.2e} "
                      f"({time.time() - t0:.1f}s)")

    if master:
        path = os.path.join(tempfile.mkdtemp(prefix="tinylm_"), "ckpt.pt")
        torch.save({"model": raw_model.state_dict(), "iter": max_iters}, path)
        print("saved", path)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
