"""Multi-label topic tagging with the Hugging Face Trainer and a custom compute_loss."""
import tempfile

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    Trainer,
    TrainingArguments,
    set_seed,
)

NUM_TOPICS = 5


class TopicDataset(Dataset):
    def __init__(self, n, seq_len=24, vocab=256, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(4, vocab, (n, seq_len), generator=g)
        self.ids[:, 0] = 1
        buckets = self.ids[:, 1:] % NUM_TOPICS
        counts = torch.stack([(buckets == k).sum(1) for k in range(NUM_TOPICS)], dim=1)
        self.labels = (counts >= 5).float()

    def __len__(self):
        return self.ids.size(0)

    def __getitem__(self, idx):
        return {
            "input_ids": self.ids[idx],
            "attention_mask": torch.ones_like(self.ids[idx]),
            "labels": self.labels[idx],
        }


class MultiLabelTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        probs = torch.sigmoid(outputs.logits)
        loss_fct = nn.BCEWithLogitsLoss()
        loss = loss_fct(probs, labels)
        return (loss, outputs) if return_outputs else loss


def compute_metrics(eval_pred):
    logits, labels = eval_pred
    preds = (1 / (1 + np.exp(-logits))) > 0.5
    return {"micro_acc": float((preds == labels.astype(bool)).mean())}


def main():
    set_seed(0)
    config = BertConfig(
        vocab_size=256,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=32,
        num_labels=NUM_TOPICS,
        problem_type="multi_label_classification",
    )
    model = BertForSequenceClassification(config)
    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(),
        num_train_epochs=2,
        per_device_train_batch_size=16,
        per_device_eval_batch_size=32,
        learning_rate=5e-4,
        weight_decay=0.01,
        warmup_ratio=0.1,
        eval_strategy="epoch",
        save_strategy="no",
        logging_steps=10,
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
    )
    trainer = MultiLabelTrainer(
        model=model,
        args=args,
        train_dataset=TopicDataset(480, seed=1),
        eval_dataset=TopicDataset(96, seed=2),
        compute_metrics=compute_metrics,
    )
    trainer.train()
    print(trainer.evaluate())


if __name__ == "__main__":
    main()
