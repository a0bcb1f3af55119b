"""A multilingual translation task's `train_step` (fairseq's task API) backpropagates the loss
of each language pair through `optimizer.backward(loss)` and returns; the trainer that calls
the task steps the optimizer afterwards, once for all pairs."""

import torch


class MultilingualTranslationTask:
    def __init__(self, lang_pairs):
        self.model_lang_pairs = lang_pairs

    def train_step(self, sample, model, criterion, optimizer, update_num, ignore_grad=False):
        model.train()
        agg_loss = 0.0
        for lang_pair in self.model_lang_pairs:
            loss = criterion(model.models[lang_pair](sample[lang_pair][0]), sample[lang_pair][1])
            if ignore_grad:
                loss *= 0
            optimizer.backward(loss)
            agg_loss += loss.detach().item()
        return agg_loss


class FairseqOptimizer:
    def __init__(self, params):
        self.optimizer = torch.optim.SGD(params, lr=0.1)

    def backward(self, loss):
        loss.backward()
