import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
import lightning as L

MODEL_CONFIG = {
    "vocab_size": 40,
    "embed_dim": 32,
    "hidden_dim": 64,
    "num_classes": 4,
    "dropout": 0.1,
}


class BagOfTokensClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden_dim, num_classes, dropout):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, mode="mean")
        self.proj = nn.Linear(embed_dim, hidden_dim)
        self.norm = nn.LayerNorm(hidden_dim)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_dim, num_classes)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=1.0)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def forward(self, tokens):
        h = self.embedding(tokens)
        h = self.dropout(F.gelu(self.norm(self.proj(h))))
        return self.classifier(h)


class LitClassifier(L.LightningModule):
    def __init__(self, model_config, lr=1e-3, warmup_steps=20):
        super().__init__()
        self.save_hyperparameters()
        self.model = BagOfTokensClassifier(**model_config)

    def forward(self, tokens):
        return self.model(tokens)

    def training_step(self, batch, batch_idx):
        tokens, labels = batch
        loss = F.cross_entropy(self(tokens), labels)
        self.log("loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        tokens, labels = batch
        logits = self(tokens)
        self.log_dict({"val_loss": F.cross_entropy(logits, labels),
                       "val_acc": (logits.argmax(1) == labels).float().mean()})

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        warmup = self.hparams.warmup_steps
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))
        return [optimizer], [{"scheduler": scheduler, "interval": "step"}]


def make_token_data(n, seed, vocab=40, length=10, n_classes=4):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, n_classes, (n,), generator=g)
    tokens = torch.randint(0, vocab, (n, length), generator=g)
    # plant class-specific tokens in the first three positions
    planted = labels[:, None] * (vocab // n_classes) + torch.randint(0, 3, (n, 3), generator=g)
    tokens[:, :3] = planted
    return TensorDataset(tokens, labels)


if __name__ == "__main__":
    L.seed_everything(31)
    lit = LitClassifier(MODEL_CONFIG)
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=4,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(
        lit,
        train_dataloaders=DataLoader(make_token_data(2048, seed=1), batch_size=64, shuffle=True),
        val_dataloaders=DataLoader(make_token_data(512, seed=2), batch_size=256),
    )
    print({k: round(float(v), 4) for k, v in trainer.callback_metrics.items()})
