"""`torch.softmax(t, axis=-1)`: torch's functions accept NumPy's `axis` as another name for
`dim` (a Grad-CAM helper scoring concepts from a NumPy array), so the axis is explicit."""

import numpy as np
import torch

concept_outputs = np.random.rand(4, 10).astype("float32")
scores = torch.softmax(torch.from_numpy(concept_outputs), axis=-1).numpy()
top = torch.from_numpy(concept_outputs).log_softmax(axis=1).argmax(axis=1)
print(scores.shape, top)
