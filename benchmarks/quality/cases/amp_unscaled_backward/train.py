import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32, 128)
        self.fc2 = nn.Linear(128, 5)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class AmpTrainer:
    def __init__(self, model, loader, device):
        self.model = model.to(device)
        self.loader = loader
        self.device = device
        self.optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        self.scaler = torch.amp.GradScaler(device)

    def _step(self, batch):
        x, y = (t.to(self.device) for t in batch)
        self.optimizer.zero_grad()
        with torch.autocast(device_type=self.device, dtype=torch.bfloat16):
            loss = F.cross_entropy(self.model(x), y)
        loss.backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss.item()

    def fit(self, epochs):
        for epoch in range(epochs):
            self.model.train()
            losses = []
            for batch in self.loader:
                losses.append(self._step(batch))
            print(f"epoch {epoch} mean loss {sum(losses) / len(losses):.4f}")


if __name__ == "__main__":
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(320, 32), torch.randint(0, 5, (320,)))
    loader = DataLoader(data, batch_size=32, shuffle=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    AmpTrainer(Net(), loader, device).fit(2)
