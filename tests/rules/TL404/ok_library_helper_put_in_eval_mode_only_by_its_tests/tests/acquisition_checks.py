import unittest

import torch
import torch.nn as nn

from acquisition import Ensemble, acquisition_values


class TestAcquisition(unittest.TestCase):
    def test_values(self):
        model = Ensemble([nn.Linear(3, 1), nn.Linear(3, 1)])
        model.load_state_dict(model.state_dict())
        model.eval()
        values = acquisition_values(model, [torch.rand(4, 3) for _ in range(2)])
        self.assertEqual(len(values), 2)
