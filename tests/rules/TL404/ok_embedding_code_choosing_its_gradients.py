"""Embedding code that runs after `model.eval()` but is not an evaluation pass: it fine-tunes
the transformer only in training mode (`if propagate_gradients:` runs it with gradients, the
`else:` arm under `torch.no_grad()`), and mixes each sentence's layers with a `ScalarMix`
module built afresh for that sentence."""

import torch
import torch.nn as nn


class ScalarMix(nn.Module):
    def __init__(self, mixture_size):
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(mixture_size))

    def forward(self, layers):
        w = torch.softmax(self.weights, dim=0)
        return sum(wi * layer for wi, layer in zip(w, layers))


class TransformerEmbeddings(nn.Module):
    def __init__(self, fine_tune=True):
        super().__init__()
        self.model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.1))
        self.fine_tune = fine_tune

    def embed(self, sentences):
        out = []
        for ids in sentences:
            propagate_gradients = self.fine_tune and self.training
            if propagate_gradients:
                hidden_states = self.model(ids)
            else:
                with torch.no_grad():
                    hidden_states = self.model(ids)
            sm = ScalarMix(mixture_size=2)
            out.append(sm([hidden_states, hidden_states * 2]))
        return out


embeddings = TransformerEmbeddings()
embeddings.load_state_dict(torch.load("embeddings.pt"))
embeddings.eval()
print(len(embeddings.embed([torch.randn(3, 8) for _ in range(4)])))
