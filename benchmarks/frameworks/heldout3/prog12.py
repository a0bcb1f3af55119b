import os
import tempfile

import numpy as np
import torch
from torch import nn
from transformers import (
    DistilBertConfig,
    DistilBertForSequenceClassification,
    Trainer,
    TrainingArguments,
    set_seed,
)

PAD_ID = 0
VOCAB_SIZE = 80
NUM_LABELS = 3


def make_examples(n, seed):
    rng = np.random.default_rng(seed)
    examples = []
    for _ in range(n):
        length = int(rng.integers(6, 20))
        ids = rng.integers(3, VOCAB_SIZE, size=length)
        # label depends on the share of "high" tokens, classes are imbalanced
        share = (ids > 55).mean()
        label = 0 if share < 0.35 else (1 if share < 0.55 else 2)
        examples.append({"input_ids": [1] + ids.tolist(), "label": label})
    return examples


def collate(features):
    max_len = max(len(f["input_ids"]) for f in features)
    input_ids = torch.full((len(features), max_len), PAD_ID, dtype=torch.long)
    attention_mask = torch.zeros((len(features), max_len), dtype=torch.long)
    for i, f in enumerate(features):
        ids = torch.tensor(f["input_ids"], dtype=torch.long)
        input_ids[i, : len(ids)] = ids
        attention_mask[i, : len(ids)] = 1
    labels = torch.tensor([f["label"] for f in features], dtype=torch.long)
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


class WeightedLossTrainer(Trainer):
    def __init__(self, *args, class_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.class_weights = class_weights

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss_fct = nn.CrossEntropyLoss(weight=self.class_weights.to(outputs.logits.device))
        loss = loss_fct(outputs.logits.view(-1, self.model.config.num_labels), labels.view(-1))
        return (loss, outputs) if return_outputs else loss


def compute_metrics(pred):
    logits, labels = pred
    preds = logits.argmax(-1)
    per_class = [float((preds[labels == c] == c).mean()) if (labels == c).any() else 0.0
                 for c in range(NUM_LABELS)]
    return {"accuracy": float((preds == labels).mean()), "balanced_accuracy": float(np.mean(per_class))}


def main():
    set_seed(13)
    train_examples = make_examples(768, seed=1)
    eval_examples = make_examples(300, seed=2)
    counts = np.bincount([e["label"] for e in train_examples], minlength=NUM_LABELS)
    weights = torch.tensor(counts.sum() / (NUM_LABELS * np.maximum(counts, 1)), dtype=torch.float)

    config = DistilBertConfig(
        vocab_size=VOCAB_SIZE, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
        max_position_embeddings=32, num_labels=NUM_LABELS, pad_token_id=PAD_ID,
        dropout=0.1, attention_dropout=0.1, seq_classif_dropout=0.1,
    )
    model = DistilBertForSequenceClassification(config)

    with tempfile.TemporaryDirectory(prefix="wlt_") as out_dir:
        args = TrainingArguments(
            output_dir=os.path.join(out_dir, "run"),
            num_train_epochs=2,
            learning_rate=2e-3,
            lr_scheduler_type="linear",
            warmup_steps=10,
            per_device_train_batch_size=32,
            per_device_eval_batch_size=100,
            max_grad_norm=1.0,
            eval_strategy="epoch",
            logging_strategy="epoch",
            save_strategy="no",
            report_to=[],
            use_cpu=True,
            disable_tqdm=True,
            remove_unused_columns=False,
            seed=13,
        )
        trainer = WeightedLossTrainer(
            model=model,
            args=args,
            train_dataset=train_examples,
            eval_dataset=eval_examples,
            data_collator=collate,
            compute_metrics=compute_metrics,
            class_weights=weights,
        )
        trainer.train()
        metrics = trainer.evaluate()
        print({k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)})


if __name__ == "__main__":
    main()
