"""Text classifier (embedding bag) trained with Lightning manual optimization and a OneCycle schedule."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from lightning.pytorch import LightningModule, Trainer, seed_everything


VOCAB = 500
NUM_CLASSES = 3


class BagOfWords(LightningModule):
    def __init__(self, embed_dim=32, max_lr=1e-2, total_steps=100):
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.embedding = nn.EmbeddingBag(VOCAB, embed_dim, mode="mean")
        self.fc = nn.Sequential(nn.Linear(embed_dim, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, NUM_CLASSES))

    def forward(self, tokens):
        return self.fc(self.embedding(tokens))

    def training_step(self, batch, batch_idx):
        optimizer = self.optimizers()
        scheduler = self.lr_schedulers()
        tokens, labels = batch

        optimizer.zero_grad()
        logits = self(tokens)
        loss = F.cross_entropy(logits, labels)
        self.manual_backward(loss)
        scheduler.step()
        optimizer.step()

        self.log("loss", loss)
        self.log("lr", scheduler.get_last_lr()[0])
        return loss

    def validation_step(self, batch, batch_idx):
        tokens, labels = batch
        logits = self(tokens)
        self.log("val_acc", (logits.argmax(-1) == labels).float().mean())

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=self.hparams.max_lr, momentum=0.9, nesterov=True)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=self.hparams.max_lr, total_steps=self.hparams.total_steps
        )
        return [optimizer], [scheduler]


def token_dataset(n, seq_len=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, NUM_CLASSES, (n,), generator=g)
    base = torch.randint(0, VOCAB, (n, seq_len), generator=g)
    marker = labels[:, None] * 100 + torch.randint(0, 100, (n, 5), generator=g)
    tokens = torch.cat([base, marker], dim=1)
    return TensorDataset(tokens, labels)


def main():
    seed_everything(5)
    epochs, batch_size = 3, 32
    train_ds = token_dataset(960, seed=1)
    steps = epochs * (len(train_ds) // batch_size)
    train_loader = DataLoader(train_ds, batch_size=batch_size, shuffle=True, drop_last=True)
    val_loader = DataLoader(token_dataset(200, seed=2), batch_size=100)
    model = BagOfWords(total_steps=steps)
    trainer = Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
    )
    trainer.fit(model, train_loader, val_loader)
    print("val_acc", float(trainer.callback_metrics["val_acc"]))


if __name__ == "__main__":
    main()
