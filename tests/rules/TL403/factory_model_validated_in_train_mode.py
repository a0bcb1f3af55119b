"""A trainer gets its network from a config factory (its class is out of sight), puts it in
training mode itself, and validates every few hundred iterations through a forward helper it
shares with training: validation runs with the network still in training mode."""
import torch

from project.factory import build_model


class Trainer:
    def __init__(self, config, loaders):
        self.model = build_model(config)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.loaders = loaders
        self.criterion = torch.nn.CrossEntropyLoss()
        self.iteration = 0

    def _forward_pass(self, batch):
        inputs, target = batch
        output = self.model(inputs)  # TL403
        return output, self.criterion(output, target)

    def train_epoch(self):
        self.model.train()
        for batch in self.loaders["train"]:
            _, loss = self._forward_pass(batch)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.iteration += 1
            if self.iteration % 500 == 0:
                print(self.validate())

    def validate(self):
        total = 0.0
        with torch.no_grad():
            for batch in self.loaders["val"]:
                _, loss = self._forward_pass(batch)
                total += loss.item()
        return total / len(self.loaders["val"])
