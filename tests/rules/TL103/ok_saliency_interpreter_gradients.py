"""A saliency interpreter computes the gradient of the model's loss for each instance (the
predictor clears the parameters' `.grad` by hand first) to score the input tokens: the
backward explains the prediction, no optimizer is meant to step."""

import torch
import torch.nn as nn


class Predictor:
    def __init__(self, model):
        self._model = model

    def get_gradients(self, batch):
        embeddings = self._model[0](batch["tokens"])
        embeddings.retain_grad()
        loss = nn.functional.cross_entropy(self._model[1:](embeddings).mean(1), batch["label"])
        for p in self._model.parameters():
            p.grad = None
        loss.backward()
        return embeddings.grad


class SimpleGradient:
    def __init__(self, predictor):
        self.predictor = predictor

    def saliency_interpret(self, instances):
        scores = []
        for instance in instances:
            grads = self.predictor.get_gradients(instance)
            scores.append(grads.norm(dim=-1))
        return scores


model = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 2))
batch = {"tokens": torch.randint(0, 10, (1, 5)), "label": torch.tensor([1])}
print(SimpleGradient(Predictor(model)).saliency_interpret([batch, batch]))
