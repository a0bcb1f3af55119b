"""The fixed model: `forward` ends with `nn.LogSoftmax(dim=1)(scores)`, built and called in
one expression, and `calculate_loss` uses `nn.NLLLoss`, which expects log-probabilities."""

import torch
import torch.nn as nn
from trafficlib.model.abstract_model import AbstractModel


class NextLocation(AbstractModel):
    def __init__(self, config: dict, data_feature: dict) -> None:
        super().__init__(config, data_feature)
        self.emb = nn.Embedding(data_feature["loc_size"], 16)
        self.lstm = nn.LSTM(16, 32, batch_first=True)
        self.dense = nn.Linear(32, data_feature["loc_size"])

    def forward(self, batch: dict) -> torch.Tensor:
        out, _ = self.lstm(self.emb(batch["current_loc"]))
        scores = self.dense(out[:, -1])
        return nn.LogSoftmax(dim=1)(scores)

    def predict(self, batch: dict) -> torch.Tensor:
        return self.forward(batch)

    def calculate_loss(self, batch: dict) -> torch.Tensor:
        criterion = nn.NLLLoss()
        return criterion(self.forward(batch), batch["target"])
