"""The embeddings are updated by hand with their own learning rate, outside the optimizer, and
their gradients are cleared after each update, beside the optimizer's own clear."""

import torch
import torch.nn as nn


class Trainer:
    def __init__(self, model: nn.Module, embedding: nn.Embedding, emb_lr: float = 0.1) -> None:
        self.model = model
        self.embedding = embedding
        self.emb_lr = emb_lr
        self.optimizer = torch.optim.Adagrad(model.parameters(), lr=0.05)
        self.criterion = nn.CrossEntropyLoss()

    def train_epoch(self, batches) -> float:
        self.model.train()
        self.embedding.zero_grad()
        self.optimizer.zero_grad()
        total = 0.0
        for tokens, labels in batches:
            out = self.model(self.embedding(tokens).mean(dim=1))
            loss = self.criterion(out, labels)
            loss.backward()
            total += loss.item()
            for p in self.embedding.parameters():
                p.data.sub_(p.grad.data * self.emb_lr)
            self.embedding.zero_grad()
            self.optimizer.step()
            self.optimizer.zero_grad()
        return total
