"""Bag-of-tokens sentiment classifier on a synthetic vocabulary."""
import random

import torch
import torch.nn as nn

VOCAB_SIZE = 500
EMBED_DIM = 32
NUM_CLASSES = 2
POSITIVE = set(range(0, 50))


def synth_corpus(n_docs, rng):
    docs, labels = [], []
    for _ in range(n_docs):
        length = rng.randint(5, 20)
        tokens = [rng.randrange(VOCAB_SIZE) for _ in range(length)]
        docs.append(tokens)
        labels.append(int(sum(t in POSITIVE for t in tokens) >= 2))
    return docs, labels


def batches(docs, labels, batch_size, rng):
    order = list(range(len(docs)))
    rng.shuffle(order)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        flat = [t for i in idx for t in docs[i]]
        offsets = [0]
        for i in idx[:-1]:
            offsets.append(offsets[-1] + len(docs[i]))
        yield (
            torch.tensor(flat, dtype=torch.long),
            torch.tensor(offsets, dtype=torch.long),
            torch.tensor([labels[i] for i in idx], dtype=torch.long),
        )


class BagClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.EmbeddingBag(VOCAB_SIZE, EMBED_DIM, mode="mean")
        self.fc = nn.Linear(EMBED_DIM, NUM_CLASSES)

    def forward(self, tokens, offsets):
        return self.fc(self.embedding(tokens, offsets))


def main():
    rng = random.Random(0)
    torch.manual_seed(0)
    docs, labels = synth_corpus(400, rng)
    model = BagClassifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        model.train()
        total, n = 0.0, 0
        for tokens, offsets, target in batches(docs, labels, 32, rng):
            optimizer.zero_grad()
            logits = model(tokens, offsets)
            loss = criterion(logits, target)
            loss.backward()
            total += loss.item()
            n += 1
        print(f"epoch {epoch}: mean loss {total / n:.4f}")


if __name__ == "__main__":
    main()
