"""GRU sequence classifier trained with Accelerate and gradient accumulation."""
import argparse
import os
import tempfile

import torch
import torch.nn as nn
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, Dataset


class ParitySequences(Dataset):
    def __init__(self, n, seq_len=12, vocab=16, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.tokens = torch.randint(1, vocab, (n, seq_len), generator=g)
        self.labels = (self.tokens[:, -2:].sum(1) > vocab).long()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"tokens": self.tokens[i], "label": self.labels[i]}


class GRUClassifier(nn.Module):
    def __init__(self, vocab=16, emb=32, hidden=64, n_classes=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb, padding_idx=0)
        self.rnn = nn.GRU(emb, hidden, batch_first=True)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(hidden, n_classes))

    def forward(self, tokens):
        _, h_n = self.rnn(self.embed(tokens))
        return self.classifier(h_n[-1])


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch_size", type=int, default=16)
    p.add_argument("--gradient_accumulation_steps", type=int, default=4)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--max_grad_norm", type=float, default=1.0)
    return p.parse_args()


def main():
    args = parse_args()
    accelerator = Accelerator(gradient_accumulation_steps=args.gradient_accumulation_steps, cpu=True)
    set_seed(5)

    train_dl = DataLoader(ParitySequences(768, seed=0), batch_size=args.batch_size, shuffle=True)
    eval_dl = DataLoader(ParitySequences(256, seed=1), batch_size=64)
    model = GRUClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=args.epochs * len(train_dl) // args.gradient_accumulation_steps
    )
    criterion = nn.CrossEntropyLoss()
    model, optimizer, train_dl, eval_dl, scheduler = accelerator.prepare(
        model, optimizer, train_dl, eval_dl, scheduler
    )

    for epoch in range(args.epochs):
        model.train()
        total_loss = 0.0
        for batch in train_dl:
            with accelerator.accumulate(model):
                logits = model(batch["tokens"])
                loss = criterion(logits, batch["label"])
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            total_loss += loss.detach().float()

        model.eval()
        correct = torch.tensor(0)
        count = 0
        for batch in eval_dl:
            with torch.no_grad():
                preds = model(batch["tokens"]).argmax(dim=-1)
            preds, labels = accelerator.gather_for_metrics((preds, batch["label"]))
            correct += (preds == labels).sum()
            count += labels.numel()
        accelerator.print(
            f"epoch {epoch}: loss {total_loss.item() / len(train_dl):.4f} "
            f"acc {correct.item() / count:.3f} lr {scheduler.get_last_lr()[0]:.2e}"
        )

    accelerator.wait_for_everyone()
    out_dir = tempfile.mkdtemp(prefix="gru_acc_")
    accelerator.save(accelerator.unwrap_model(model).state_dict(), os.path.join(out_dir, "model.pt"))
    accelerator.print("saved to", out_dir)


if __name__ == "__main__":
    main()
