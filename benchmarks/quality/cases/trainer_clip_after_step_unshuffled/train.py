import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self, d_in=32, n_classes=4):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_in, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, n_classes)
        )

    def forward(self, x):
        return self.net(x)


class Trainer:
    def __init__(self, model, dataset, batch_size=32, lr=1e-3, max_grad_norm=1.0):
        self.model = model
        self.loader = DataLoader(dataset, batch_size=batch_size)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.loss_fn = nn.CrossEntropyLoss()
        self.max_grad_norm = max_grad_norm

    def _step(self, batch):
        inputs, labels = batch
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(inputs), labels)
        loss.backward()
        self.optimizer.step()
        torch.nn.utils.clip_grad_value_(self.model.parameters(), self.max_grad_norm)
        return loss.item()

    def fit(self, epochs=2):
        for epoch in range(epochs):
            self.model.train()
            total = 0.0
            for batch in self.loader:
                total += self._step(batch)
            print(f"epoch {epoch}: {total / len(self.loader):.4f}")


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.randn(256, 32)
    y = torch.arange(256) % 4
    x[torch.arange(256), y] += 2.0
    Trainer(Classifier(), TensorDataset(x, y)).fit()
