"""Sequence reversal with a tiny T5 and the Hugging Face Trainer using a custom optimizer/scheduler."""
import tempfile

import torch
from torch.utils.data import Dataset
from transformers import (
    T5Config,
    T5ForConditionalGeneration,
    Trainer,
    TrainingArguments,
    get_linear_schedule_with_warmup,
    set_seed,
)

PAD, EOS, VOCAB, LEN = 0, 1, 40, 10


class ReverseDataset(Dataset):
    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.src = torch.randint(2, VOCAB, (n, LEN), generator=g)

    def __len__(self):
        return len(self.src)

    def __getitem__(self, i):
        eos = torch.tensor([EOS])
        src = torch.cat([self.src[i], eos])
        tgt = torch.cat([self.src[i].flip(0), eos])
        return {"input_ids": src, "attention_mask": torch.ones_like(src), "labels": tgt}


def build_model():
    config = T5Config(
        vocab_size=VOCAB, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_decoder_layers=2,
        num_heads=4, dropout_rate=0.0, pad_token_id=PAD, eos_token_id=EOS, decoder_start_token_id=PAD,
    )
    return T5ForConditionalGeneration(config)


def token_accuracy(eval_pred):
    logits, labels = eval_pred
    if isinstance(logits, tuple):
        logits = logits[0]
    preds = logits.argmax(-1)
    return {"token_acc": float((preds == labels).mean())}


def main():
    set_seed(1)
    train_ds, eval_ds = ReverseDataset(320, 0), ReverseDataset(64, 1)
    model = build_model()

    epochs, batch_size = 3, 32
    total_steps = epochs * (len(train_ds) // batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1.0, weight_decay=0.0)
    scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=5, num_training_steps=total_steps)

    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(prefix="t5rev_"),
        num_train_epochs=epochs,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=64,
        eval_strategy="epoch",
        logging_steps=5,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        dataloader_drop_last=True,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        optimizers=(optimizer, scheduler),
        compute_metrics=token_accuracy,
        preprocess_logits_for_metrics=lambda logits, labels: logits[0] if isinstance(logits, tuple) else logits,
    )
    result = trainer.train()
    print("train loss:", round(result.training_loss, 4))
    print(trainer.evaluate())


if __name__ == "__main__":
    main()
