"""Sentiment-style classification with a tiny DistilBERT: Accelerate with hand-rolled accumulation."""
import math
import os
import tempfile
from contextlib import nullcontext

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, Dataset
from transformers import DistilBertConfig, DistilBertForSequenceClassification, get_linear_schedule_with_warmup

HP = {
    "vocab": 256,
    "max_len": 24,
    "micro_batch": 8,
    "accum": 4,
    "epochs": 3,
    "lr": 4e-4,
    "warmup_frac": 0.1,
    "freeze_embeddings": True,
}


class PolarityDataset(Dataset):
    def __init__(self, n, vocab, max_len, seed):
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(3, vocab, (n, max_len), generator=g)
        positive = self.ids < vocab // 2
        self.labels = (positive.float().mean(1) > 0.5).long()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": torch.ones_like(self.ids[i]),
                "labels": self.labels[i]}


def main():
    hp = HP
    set_seed(123)
    accelerator = Accelerator(cpu=True)

    config = DistilBertConfig(vocab_size=hp["vocab"], dim=64, n_layers=2, n_heads=4, hidden_dim=128,
                              max_position_embeddings=hp["max_len"], num_labels=2)
    model = DistilBertForSequenceClassification(config)
    if hp["freeze_embeddings"]:
        model.distilbert.embeddings.requires_grad_(False)

    train_dl = DataLoader(PolarityDataset(384, hp["vocab"], hp["max_len"], 0),
                          batch_size=hp["micro_batch"], shuffle=True)
    eval_dl = DataLoader(PolarityDataset(128, hp["vocab"], hp["max_len"], 1), batch_size=32)

    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=hp["lr"], weight_decay=0.01)
    num_updates = math.ceil(len(train_dl) / hp["accum"]) * hp["epochs"]
    scheduler = get_linear_schedule_with_warmup(optimizer, int(hp["warmup_frac"] * num_updates), num_updates)

    model, optimizer, train_dl, eval_dl = accelerator.prepare(model, optimizer, train_dl, eval_dl)

    update = 0
    for epoch in range(hp["epochs"]):
        model.train()
        for i, batch in enumerate(train_dl):
            last_micro = (i + 1) % hp["accum"] == 0 or (i + 1) == len(train_dl)
            ctx = nullcontext() if last_micro else accelerator.no_sync(model)
            with ctx:
                loss = model(**batch).loss / hp["accum"]
                accelerator.backward(loss)
            if last_micro:
                accelerator.clip_grad_norm_(trainable, 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                update += 1

        model.eval()
        hits = total = 0
        with torch.inference_mode():
            for batch in eval_dl:
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                preds, refs = accelerator.gather_for_metrics((logits.argmax(-1), batch["labels"]))
                hits += (preds == refs).sum().item()
                total += refs.numel()
        accelerator.print(f"epoch {epoch}: updates={update} lr={scheduler.get_last_lr()[0]:.2e} "
                          f"acc={hits / total:.3f}")

    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        out = tempfile.mkdtemp(prefix="distil_acc_")
        accelerator.unwrap_model(model).save_pretrained(out)
        print("saved:", sorted(os.listdir(out)))


if __name__ == "__main__":
    main()
