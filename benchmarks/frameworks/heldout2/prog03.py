"""Text classification with a tiny BERT and Hugging Face Accelerate."""
import math

import torch
import torch.nn as nn
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, Dataset
from transformers import BertConfig, BertForSequenceClassification, get_cosine_schedule_with_warmup

CONFIG = {
    "vocab_size": 500,
    "seq_len": 32,
    "num_labels": 3,
    "batch_size": 16,
    "grad_accum": 2,
    "epochs": 2,
    "lr": 5e-4,
    "max_grad_norm": 1.0,
    "warmup_ratio": 0.1,
}


class ToyTextDataset(Dataset):
    def __init__(self, n, vocab_size, seq_len, num_labels, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.input_ids = torch.randint(5, vocab_size, (n, seq_len), generator=g)
        self.labels = (self.input_ids[:, :4].sum(dim=1) % num_labels).long()
        lengths = torch.randint(seq_len // 2, seq_len + 1, (n,), generator=g)
        self.attention_mask = (torch.arange(seq_len)[None, :] < lengths[:, None]).long()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {
            "input_ids": self.input_ids[i],
            "attention_mask": self.attention_mask[i],
            "labels": self.labels[i],
        }


def build_model(cfg):
    bert_cfg = BertConfig(
        vocab_size=cfg["vocab_size"], hidden_size=64, num_hidden_layers=2,
        num_attention_heads=4, intermediate_size=128,
        max_position_embeddings=cfg["seq_len"], num_labels=cfg["num_labels"],
    )
    return BertForSequenceClassification(bert_cfg)


def main():
    cfg = CONFIG
    set_seed(42)
    accelerator = Accelerator(gradient_accumulation_steps=cfg["grad_accum"], cpu=True)

    train_ds = ToyTextDataset(512, cfg["vocab_size"], cfg["seq_len"], cfg["num_labels"], seed=0)
    eval_ds = ToyTextDataset(128, cfg["vocab_size"], cfg["seq_len"], cfg["num_labels"], seed=1)
    train_dl = DataLoader(train_ds, batch_size=cfg["batch_size"], shuffle=True)
    eval_dl = DataLoader(eval_ds, batch_size=64)

    model = build_model(cfg)
    no_decay = ("bias", "LayerNorm.weight")
    grouped = [
        {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)],
         "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)],
         "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(grouped, lr=cfg["lr"])
    steps_per_epoch = math.ceil(len(train_dl) / cfg["grad_accum"])
    total_steps = steps_per_epoch * cfg["epochs"]
    scheduler = get_cosine_schedule_with_warmup(
        optimizer, int(cfg["warmup_ratio"] * total_steps), total_steps
    )

    model, optimizer, train_dl, eval_dl, scheduler = accelerator.prepare(
        model, optimizer, train_dl, eval_dl, scheduler
    )

    for epoch in range(cfg["epochs"]):
        model.train()
        for batch in train_dl:
            with accelerator.accumulate(model):
                outputs = model(**batch)
                loss = outputs.loss
                accelerator.clip_grad_norm_(model.parameters(), cfg["max_grad_norm"])
                accelerator.backward(loss)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()

        model.eval()
        correct, seen = 0, 0
        for batch in eval_dl:
            with torch.no_grad():
                logits = model(**batch).logits
            preds, refs = accelerator.gather_for_metrics((logits.argmax(dim=-1), batch["labels"]))
            correct += (preds == refs).sum().item()
            seen += refs.numel()
        accelerator.print(f"epoch {epoch}: eval accuracy {correct / seen:.3f}")

    accelerator.wait_for_everyone()
    accelerator.end_training()


if __name__ == "__main__":
    main()
