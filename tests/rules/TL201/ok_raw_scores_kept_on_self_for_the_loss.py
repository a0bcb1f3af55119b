"""The same class keeps the segmenter's raw scores on `self` for the loss, and their
log-softmax only for the predicted labels."""

import torch
import torch.nn.functional as F


class SemanticTranslation:
    def __init__(self, generator, segmenter):
        self.generator = generator
        self.segmenter = segmenter
        self.criterion_sem = torch.nn.modules.CrossEntropyLoss()
        params = list(generator.parameters()) + list(segmenter.parameters())
        self.optimizer = torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999))

    def forward(self, real_a):
        self.fake_b = self.generator(real_a)
        self.seg_fake_b = self.segmenter(self.fake_b)
        self.seg_log_probs = F.log_softmax(self.seg_fake_b, dim=1)
        self.seg_labels = self.seg_log_probs.argmax(dim=1)

    def compute_losses(self, labels_a):
        self.loss_sem = self.criterion_sem(self.seg_fake_b, labels_a)
        self.loss = self.loss_sem + F.l1_loss(self.fake_b.mean(), torch.tensor(0.0))

    def optimize(self, real_a, labels_a):
        self.forward(real_a)
        self.compute_losses(labels_a)
        self.optimizer.zero_grad()
        self.loss.backward()
        self.optimizer.step()
