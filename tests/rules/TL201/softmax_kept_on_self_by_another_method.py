"""A GAN-style model class keeps its intermediate results on `self`: `forward()` stores the
segmenter's log-probabilities, and `compute_losses()` hands them to CrossEntropyLoss, which
applies log_softmax a second time."""

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
        self.seg_fake_b = F.log_softmax(self.segmenter(self.fake_b), dim=1)
        self.seg_labels = self.seg_fake_b.argmax(dim=1)

    def compute_losses(self, labels_a):
        self.loss_sem = self.criterion_sem(self.seg_fake_b, labels_a)  # TL201
        self.loss = self.loss_sem + F.l1_loss(self.fake_b.mean(), torch.tensor(0.0))

    def optimize(self, real_a, labels_a):
        self.forward(real_a)
        self.compute_losses(labels_a)
        self.optimizer.zero_grad()
        self.loss.backward()
        self.optimizer.step()
