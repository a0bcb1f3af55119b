"""Causal LM fine-tuning of a tiny GPT-2 with Accelerate."""
import math
import os
import tempfile

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, Dataset
from transformers import GPT2Config, GPT2LMHeadModel, get_linear_schedule_with_warmup

TRAIN_CFG = {
    "seed": 17,
    "block_size": 32,
    "train_batch_size": 8,
    "eval_batch_size": 16,
    "gradient_accumulation_steps": 2,
    "num_epochs": 2,
    "learning_rate": 1e-3,
    "warmup_steps": 4,
    "log_every": 10,
}


class PatternCorpus(Dataset):
    def __init__(self, n_blocks, block_size, vocab_size, seed):
        g = torch.Generator().manual_seed(seed)
        period = torch.randint(3, 9, (n_blocks,), generator=g)
        starts = torch.randint(0, vocab_size, (n_blocks,), generator=g)
        pos = torch.arange(block_size)
        self.blocks = (starts[:, None] + pos[None] % period[:, None]) % vocab_size

    def __len__(self):
        return len(self.blocks)

    def __getitem__(self, i):
        ids = self.blocks[i]
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids.clone()}


def evaluate(model, loader, accelerator):
    model.eval()
    losses = []
    for batch in loader:
        with torch.no_grad():
            out = model(**batch)
        losses.append(accelerator.gather_for_metrics(out.loss.repeat(batch["input_ids"].size(0))))
    model.train()
    mean_loss = torch.cat(losses).mean().item()
    return mean_loss, math.exp(mean_loss)


def main():
    cfg = TRAIN_CFG
    set_seed(cfg["seed"])
    accelerator = Accelerator(gradient_accumulation_steps=cfg["gradient_accumulation_steps"], cpu=True)

    gpt_cfg = GPT2Config(vocab_size=128, n_positions=cfg["block_size"], n_embd=64, n_layer=2, n_head=4)
    model = GPT2LMHeadModel(gpt_cfg)
    train_dl = DataLoader(PatternCorpus(192, cfg["block_size"], 128, seed=0),
                          batch_size=cfg["train_batch_size"], shuffle=True)
    eval_dl = DataLoader(PatternCorpus(32, cfg["block_size"], 128, seed=1), batch_size=cfg["eval_batch_size"])

    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg["learning_rate"], weight_decay=0.01)
    update_steps = math.ceil(len(train_dl) / cfg["gradient_accumulation_steps"]) * cfg["num_epochs"]
    lr_scheduler = get_linear_schedule_with_warmup(optimizer, cfg["warmup_steps"], update_steps)
    model, optimizer, train_dl, eval_dl, lr_scheduler = accelerator.prepare(
        model, optimizer, train_dl, eval_dl, lr_scheduler
    )

    model.train()
    for epoch in range(cfg["num_epochs"]):
        total_loss = 0
        for step, batch in enumerate(train_dl):
            with accelerator.accumulate(model):
                outputs = model(**batch)
                loss = outputs.loss
                total_loss += loss
                accelerator.backward(loss)
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad()
            if (step + 1) % cfg["log_every"] == 0:
                accelerator.print(f"epoch {epoch} step {step + 1}: running loss {total_loss.item() / (step + 1):.4f}")
        eval_loss, ppl = evaluate(model, eval_dl, accelerator)
        accelerator.print(f"epoch {epoch}: eval loss {eval_loss:.4f} perplexity {ppl:.2f}")

    accelerator.wait_for_everyone()
    out_dir = tempfile.mkdtemp(prefix="tiny_gpt2_")
    accelerator.unwrap_model(model).save_pretrained(out_dir, save_function=accelerator.save)
    accelerator.print("saved to", out_dir, os.listdir(out_dir))


if __name__ == "__main__":
    main()
