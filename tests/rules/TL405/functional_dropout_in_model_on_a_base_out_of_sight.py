"""A recommender built on a base class from a file out of sight: it defines `forward` and
builds `torch.nn` layers, so it is a module, and its functional dropout ignores eval mode."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from .context_recommender import ContextRecommender


class AFM(ContextRecommender):
    def __init__(self, config, dataset):
        super().__init__(config, dataset)
        self.attention = nn.Linear(config["embedding_size"], 1)
        self.p = nn.Parameter(torch.randn(config["embedding_size"]))
        self.dropout_prob = config["dropout_prob"]

    def pooled(self, pairs):
        weights = torch.softmax(self.attention(pairs), dim=1)
        weights = F.dropout(weights, self.dropout_prob)  # TL405
        return (weights * pairs).sum(dim=1) @ self.p

    def forward(self, interaction):
        return self.pooled(self.concat_embed_input_fields(interaction))
