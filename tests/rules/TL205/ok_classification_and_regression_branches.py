"""A sentence-prediction criterion serves both kinds of task: cross-entropy for classes, MSE
for a regression target, and accuracy only when the task is a classification. The MSE and
the argmax never run together."""

import torch
import torch.nn.functional as F


class SentencePredictionCriterion:
    def __init__(self, regression_target):
        self.regression_target = regression_target

    def __call__(self, logits, targets):
        if not self.regression_target:
            lprobs = F.log_softmax(logits, dim=-1)
            loss = F.nll_loss(lprobs, targets, reduction="sum")
        else:
            logits = logits.view(-1).float()
            targets = targets.float()
            loss = F.mse_loss(logits, targets, reduction="sum")
        logging_output = {"loss": loss.detach()}
        if not self.regression_target:
            preds = logits.argmax(dim=1)
            logging_output["ncorrect"] = (preds == targets).sum()
        return loss, logging_output


criterion = SentencePredictionCriterion(regression_target=True)
print(criterion(torch.randn(4, 1, requires_grad=True), torch.randn(4)))
