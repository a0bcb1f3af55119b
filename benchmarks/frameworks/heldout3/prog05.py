import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset
from transformers import BertConfig, BertModel, Trainer, TrainingArguments, set_seed

NUM_TAGS = 4
VOCAB = 64
SEQ_LEN = 16
TRIGGERS = [5, 17, 29, 41]


class TagDataset(Dataset):
    def __init__(self, n, seed):
        rng = np.random.default_rng(seed)
        self.ids = rng.integers(2, VOCAB, size=(n, SEQ_LEN))
        self.ids[:, 0] = 1  # [CLS]-like token
        self.tags = np.stack([(self.ids == t).any(axis=1) for t in TRIGGERS], axis=1).astype(np.float32)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {
            "input_ids": torch.as_tensor(self.ids[i], dtype=torch.long),
            "attention_mask": torch.ones(SEQ_LEN, dtype=torch.long),
            "labels": torch.as_tensor(self.tags[i]),
        }


class MultiTagModel(nn.Module):
    def __init__(self, config, num_tags):
        super().__init__()
        self.config = config
        self.encoder = BertModel(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.tagger = nn.Linear(config.hidden_size, num_tags)

    def forward(self, input_ids, attention_mask=None, labels=None):
        pooled = self.encoder(input_ids=input_ids, attention_mask=attention_mask).pooler_output
        scores = torch.sigmoid(self.tagger(self.dropout(pooled)))
        return {"scores": scores}


class MultiTagTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = F.binary_cross_entropy_with_logits(outputs["scores"], labels)
        return (loss, outputs) if return_outputs else loss


def compute_metrics(eval_pred):
    scores, labels = eval_pred
    preds = (scores > 0.5).astype(np.float32)
    return {"exact_match": float((preds == labels).all(axis=1).mean()),
            "tag_acc": float((preds == labels).mean())}


def main():
    set_seed(0)
    config = BertConfig(
        vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=SEQ_LEN, hidden_dropout_prob=0.1,
    )
    model = MultiTagModel(config, NUM_TAGS)
    with tempfile.TemporaryDirectory() as out_dir:
        args = TrainingArguments(
            output_dir=out_dir,
            num_train_epochs=2,
            per_device_train_batch_size=32,
            per_device_eval_batch_size=64,
            learning_rate=1e-3,
            warmup_ratio=0.1,
            weight_decay=0.01,
            eval_strategy="epoch",
            save_strategy="no",
            logging_strategy="epoch",
            report_to=[],
            use_cpu=True,
            disable_tqdm=True,
            seed=0,
        )
        trainer = MultiTagTrainer(
            model=model,
            args=args,
            train_dataset=TagDataset(768, seed=1),
            eval_dataset=TagDataset(256, seed=2),
            compute_metrics=compute_metrics,
        )
        trainer.train()
        print(trainer.evaluate())


if __name__ == "__main__":
    main()
