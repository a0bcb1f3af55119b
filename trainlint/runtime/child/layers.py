"""The torch layer classes the watchers tell apart."""

from __future__ import annotations

from typing import Tuple

import torch.nn as nn

from trainlint.runtime.records import Activation

ACTIVATIONS: Tuple[Tuple[type, str], ...] = (
    (nn.ReLU, Activation.RELU),
    (nn.ReLU6, Activation.RELU),
    (nn.Sigmoid, Activation.SIGMOID),
    (nn.Tanh, Activation.TANH),
)
WEIGHTED = (nn.Linear, nn.Bilinear, nn.modules.conv._ConvNd)
BATCH_NORM = nn.modules.batchnorm._BatchNorm  # SyncBatchNorm too
DROP_OR_NORM = (nn.modules.dropout._DropoutNd, BATCH_NORM)
# Layers that normalise what they are given (batch, layer, group, instance, RMS norms).
NORMS: Tuple[type, ...] = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm) + (
    (nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ()
)
# Layers that pass their input on unchanged in kind (shape changes, dropout): seen through
# when following where the model's input and each layer's output go.
PASS_THROUGH = (nn.Flatten, nn.Unflatten, nn.Identity, nn.modules.dropout._DropoutNd)
DROPOUT = nn.modules.dropout._DropoutNd
