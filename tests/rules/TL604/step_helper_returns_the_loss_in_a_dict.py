import torch
import torch.nn.functional as F


class Trainer:
    def __init__(self, model):
        self.model = model
        self.opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def train_on_batch(self, x, y):
        self.opt.zero_grad()
        loss = F.mse_loss(self.model(x), y)
        loss.backward()
        self.opt.step()
        return {"loss": loss, "lr": self.opt.param_groups[0]["lr"]}


model = torch.nn.Linear(4, 1)
trainer = Trainer(model)
loss_history = []
for step in range(100):
    x, y = torch.randn(8, 4), torch.randn(8, 1)
    metrics = trainer.train_on_batch(x, y)
    loss_history.append(metrics["loss"])  # TL604
