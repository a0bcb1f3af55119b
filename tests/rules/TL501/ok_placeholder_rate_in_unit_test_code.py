"""A trainer's unit test builds an optimizer with a placeholder rate of 999, then checks that
resuming from a checkpoint restores the saved rate: test code, not a training setup."""

import unittest

import torch
import torch.nn as nn


class TestTrainer(unittest.TestCase):
    def test_checkpoint_restores_the_rate(self):
        model = nn.Linear(4, 2)
        opt = torch.optim.SGD(model.parameters(), 999)  # lr will be loaded
        opt.load_state_dict({"state": {}, "param_groups": [{**opt.param_groups[0], "lr": 1e-5, "params": [0, 1]}]})
        self.assertAlmostEqual(opt.param_groups[0]["lr"], 1e-5)
