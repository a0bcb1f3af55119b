"""Multi-label tagging with a tiny DistilBERT and a customised Hugging Face Trainer."""
import tempfile

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import Dataset
from transformers import (
    DistilBertConfig,
    DistilBertForSequenceClassification,
    Trainer,
    TrainingArguments,
    set_seed,
)

NUM_TAGS = 6
VOCAB = 400
SEQ_LEN = 24


class TagDataset(Dataset):
    def __init__(self, n, seed):
        rng = np.random.default_rng(seed)
        self.ids = rng.integers(10, VOCAB, size=(n, SEQ_LEN))
        self.tags = np.stack([(self.ids % (k + 2) == 0).mean(1) > 0.25 for k in range(NUM_TAGS)], 1)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {
            "input_ids": torch.tensor(self.ids[i], dtype=torch.long),
            "attention_mask": torch.ones(SEQ_LEN, dtype=torch.long),
            "labels": torch.tensor(self.tags[i], dtype=torch.float),
        }


class MultiLabelTrainer(Trainer):
    def __init__(self, *args, pos_weight=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_fct = nn.BCEWithLogitsLoss(pos_weight=pos_weight)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        probs = torch.sigmoid(outputs.logits)
        loss = self.loss_fct(probs, labels)
        return (loss, outputs) if return_outputs else loss


def compute_metrics(eval_pred):
    logits, labels = eval_pred
    preds = (1.0 / (1.0 + np.exp(-logits))) > 0.5
    tp = (preds & (labels > 0.5)).sum()
    fp = (preds & (labels < 0.5)).sum()
    fn = (~preds & (labels > 0.5)).sum()
    f1 = 2 * tp / max(2 * tp + fp + fn, 1)
    return {"micro_f1": float(f1)}


def main():
    set_seed(3)
    train_ds, eval_ds = TagDataset(384, seed=0), TagDataset(96, seed=1)
    config = DistilBertConfig(
        vocab_size=VOCAB, dim=64, n_layers=2, n_heads=4, hidden_dim=128,
        max_position_embeddings=SEQ_LEN, num_labels=NUM_TAGS,
        problem_type="multi_label_classification",
    )
    model = DistilBertForSequenceClassification(config)

    label_freq = torch.tensor(train_ds.tags.mean(0), dtype=torch.float).clamp(min=0.05)
    pos_weight = (1 - label_freq) / label_freq

    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(prefix="tagger_"),
        per_device_train_batch_size=32,
        per_device_eval_batch_size=64,
        num_train_epochs=3,
        learning_rate=3e-4,
        warmup_ratio=0.1,
        eval_strategy="epoch",
        logging_steps=10,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
    )
    trainer = MultiLabelTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        compute_metrics=compute_metrics,
        pos_weight=pos_weight,
    )
    trainer.train()
    print(trainer.evaluate())


if __name__ == "__main__":
    main()
