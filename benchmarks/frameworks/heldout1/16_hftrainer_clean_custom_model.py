"""HF Trainer with a plain nn.Module (dict outputs) and a label-smoothed compute_loss."""
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import Trainer, TrainingArguments, set_seed


class TransformerClassifier(nn.Module):
    def __init__(self, vocab_size=128, d_model=32, n_heads=4, n_layers=2, num_labels=4, max_len=32):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, d_model, padding_idx=0)
        self.pos = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(d_model, n_heads, dim_feedforward=64, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, n_layers)
        self.norm = nn.LayerNorm(d_model)
        self.classifier = nn.Linear(d_model, num_labels)
        self.num_labels = num_labels

    def forward(self, input_ids, attention_mask, labels=None):
        pos = torch.arange(input_ids.size(1), device=input_ids.device)
        h = self.tok(input_ids) + self.pos(pos)[None]
        h = self.encoder(h, src_key_padding_mask=attention_mask == 0)
        mask = attention_mask.unsqueeze(-1).float()
        pooled = (h * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        logits = self.classifier(self.norm(pooled))
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = F.cross_entropy(logits, labels)
        return out


class PatternDataset(Dataset):
    def __init__(self, n, max_len=32, vocab=128, num_labels=4, seed=0):
        rng = np.random.default_rng(seed)
        self.items = []
        for _ in range(n):
            label = int(rng.integers(num_labels))
            length = int(rng.integers(8, max_len + 1))
            ids = rng.integers(num_labels + 1, vocab, size=length)
            ids[rng.integers(length)] = label + 1
            padded = np.zeros(max_len, dtype=np.int64)
            padded[:length] = ids
            mask = (padded != 0).astype(np.int64)
            self.items.append((padded, mask, label))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        ids, mask, label = self.items[i]
        return {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask), "labels": label}


class SmoothedTrainer(Trainer):
    label_smoothing = 0.1

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = F.cross_entropy(outputs["logits"], labels, label_smoothing=self.label_smoothing)
        return (loss, outputs) if return_outputs else loss


def compute_metrics(p):
    preds = p.predictions.argmax(-1)
    return {"accuracy": float((preds == p.label_ids).mean())}


def main():
    set_seed(21)
    out_dir = os.path.join(tempfile.gettempdir(), "fwheld-hf-custom")
    args = TrainingArguments(
        output_dir=out_dir,
        max_steps=40,
        per_device_train_batch_size=16,
        per_device_eval_batch_size=64,
        gradient_accumulation_steps=2,
        learning_rate=1e-3,
        lr_scheduler_type="cosine",
        warmup_steps=5,
        max_grad_norm=1.0,
        eval_strategy="steps",
        eval_steps=20,
        logging_steps=10,
        save_strategy="no",
        label_names=["labels"],
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    trainer = SmoothedTrainer(
        model=TransformerClassifier(),
        args=args,
        train_dataset=PatternDataset(1000, seed=0),
        eval_dataset=PatternDataset(200, seed=1),
        compute_metrics=compute_metrics,
    )
    trainer.train()
    metrics = trainer.evaluate()
    print({k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)})


if __name__ == "__main__":
    main()
