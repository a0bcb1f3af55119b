import random

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset
from accelerate import Accelerator

hyper = {
    "vocab": 30,
    "seq_len": 12,
    "emb": 16,
    "hidden": 24,
    "lr": 3e-3,
    "batch_size": 32,
    "epochs": 3,
    "grad_accum": 2,
    "seed": 2,
}


class ParityOfMarkers(Dataset):
    """Binary target: does marker token 7 appear more often than marker token 9?"""

    def __init__(self, n, seed, vocab, seq_len):
        rnd = random.Random(seed)
        self.items = []
        for _ in range(n):
            seq = [rnd.randrange(1, vocab) for _ in range(seq_len)]
            self.items.append((seq, float(seq.count(7) > seq.count(9))))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, idx):
        seq, target = self.items[idx]
        return torch.tensor(seq), torch.tensor([target])


class LSTMScorer(nn.Module):
    def __init__(self, vocab, emb, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Sequential(nn.Dropout(0.1), nn.Linear(2 * hidden, 1), nn.Sigmoid())

    def forward(self, tokens):
        h, _ = self.lstm(self.embed(tokens))
        return self.out(h.mean(dim=1))


def main():
    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=hyper["grad_accum"])
    random.seed(hyper["seed"])
    torch.manual_seed(hyper["seed"])

    train_ds = ParityOfMarkers(1024, 1, hyper["vocab"], hyper["seq_len"])
    val_ds = ParityOfMarkers(256, 2, hyper["vocab"], hyper["seq_len"])
    train_loader = DataLoader(train_ds, batch_size=hyper["batch_size"], shuffle=True)
    val_loader = DataLoader(val_ds, batch_size=128)

    model = LSTMScorer(hyper["vocab"], hyper["emb"], hyper["hidden"])
    criterion = nn.BCELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=hyper["lr"])
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=0)

    model, optimizer, train_loader, val_loader = accelerator.prepare(model, optimizer, train_loader, val_loader)

    for epoch in range(hyper["epochs"]):
        model.train()
        running = 0.0
        for tokens, target in train_loader:
            with accelerator.accumulate(model):
                prob = model(tokens)
                loss = criterion(prob, target)
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_value_(model.parameters(), 0.5)
                optimizer.step()
                optimizer.zero_grad()
            running += loss.item()

        model.eval()
        correct, total = 0, 0
        with torch.no_grad():
            for tokens, target in val_loader:
                pred = (model(tokens) > 0.5).float()
                pred, target = accelerator.gather_for_metrics((pred, target))
                correct += (pred == target).sum().item()
                total += target.numel()
        val_acc = correct / total
        plateau.step(val_acc)
        accelerator.print(f"epoch {epoch}: loss {running / len(train_loader):.4f} val_acc {val_acc:.3f}")


if __name__ == "__main__":
    main()
