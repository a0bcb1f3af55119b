"""A trajectory model derives from the library's `AbstractModel` (defined in a file that is not
checked here) and ends its `forward` with `nn.Softmax(dim=1)(scores)`, a layer built and called
in one expression. Its own `calculate_loss` feeds that output to `nn.CrossEntropyLoss`, which
applies log_softmax again."""

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
        return nn.Softmax(dim=1)(scores)  # TL201

    def predict(self, batch: dict) -> torch.Tensor:
        return self.forward(batch)

    def calculate_loss(self, batch: dict) -> torch.Tensor:
        criterion = nn.CrossEntropyLoss()
        return criterion(self.forward(batch), batch["target"])
