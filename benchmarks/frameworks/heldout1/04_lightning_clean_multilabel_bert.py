"""Multi-label tagging with a tiny BERT in Lightning (accumulation + clipping handled by Trainer)."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
import lightning as L
from transformers import BertConfig, BertModel, get_linear_schedule_with_warmup


class MultiLabelTagger(L.LightningModule):
    def __init__(self, num_labels: int, lr: float, warmup_steps: int, total_steps: int):
        super().__init__()
        self.save_hyperparameters()
        config = BertConfig(
            vocab_size=200,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64,
        )
        self.encoder = BertModel(config)
        self.head = nn.Linear(config.hidden_size, num_labels)
        self.criterion = nn.BCEWithLogitsLoss()

    def forward(self, input_ids, attention_mask):
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        return self.head(out.pooler_output)

    def training_step(self, batch, batch_idx):
        input_ids, attention_mask, labels = batch
        logits = self(input_ids, attention_mask)
        loss = self.criterion(logits, labels)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        input_ids, attention_mask, labels = batch
        logits = self(input_ids, attention_mask)
        loss = self.criterion(logits, labels)
        preds = (torch.sigmoid(logits) > 0.5).float()
        self.log("val_loss", loss)
        self.log("val_exact", (preds == labels).all(dim=1).float().mean())

    def predict_step(self, batch, batch_idx):
        input_ids, attention_mask, _ = batch
        return torch.sigmoid(self(input_ids, attention_mask))

    def configure_optimizers(self):
        no_decay = ("bias", "LayerNorm.weight")
        params = [
            {"params": [p for n, p in self.named_parameters() if not any(k in n for k in no_decay)], "weight_decay": 0.01},
            {"params": [p for n, p in self.named_parameters() if any(k in n for k in no_decay)], "weight_decay": 0.0},
        ]
        optimizer = torch.optim.AdamW(params, lr=self.hparams.lr)
        scheduler = get_linear_schedule_with_warmup(
            optimizer, self.hparams.warmup_steps, self.hparams.total_steps
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def fake_corpus(n, seq_len=24, vocab=200, num_labels=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, vocab, (n, seq_len), generator=g)
    lengths = torch.randint(8, seq_len + 1, (n,), generator=g)
    mask = (torch.arange(seq_len)[None, :] < lengths[:, None]).long()
    ids = ids * mask
    labels = torch.stack([(ids % (k + 2) == 0).sum(1) > 3 for k in range(num_labels)], dim=1).float()
    return TensorDataset(ids, mask, labels)


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--accumulate", type=int, default=2)
    p.add_argument("--epochs", type=int, default=2)
    return p.parse_args()


def main():
    args = parse_args()
    L.seed_everything(3)
    train_ds, val_ds = fake_corpus(384, seed=1), fake_corpus(64, seed=2)
    train_dl = DataLoader(train_ds, batch_size=args.batch_size, shuffle=True)
    val_dl = DataLoader(val_ds, batch_size=32)
    total_steps = args.epochs * len(train_dl) // args.accumulate
    model = MultiLabelTagger(6, args.lr, warmup_steps=max(1, total_steps // 10), total_steps=total_steps)
    trainer = L.Trainer(
        max_epochs=args.epochs,
        accumulate_grad_batches=args.accumulate,
        gradient_clip_val=1.0,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, train_dl, val_dl)
    val_loss = float(trainer.callback_metrics["val_loss"])
    probs = torch.cat(trainer.predict(model, val_dl))
    print("pred shape", tuple(probs.shape), "val_loss", val_loss)


if __name__ == "__main__":
    main()
