"""A mesh-alignment evaluator embeds every mesh in an outer loop and every other mesh in an
inner loop, after `eval()`, with gradients enabled. One defect: reported once, at the outer
loop's forward (wrapping `evaluate` in `torch.no_grad()` fixes both calls)."""

import torch
import torch.nn as nn


class Embedder(nn.Module):
    def __init__(self, names):
        super().__init__()
        self.table = nn.ParameterDict({n: nn.Parameter(torch.randn(5, 4)) for n in names})
        self.drop = nn.Dropout(0.1)

    def forward(self, name):
        return self.drop(self.table[name])


class MeshAlignmentEvaluator:
    def __init__(self, embedder, names):
        self.embedder = embedder
        self.names = names

    def evaluate(self):
        self.embedder.eval()
        errors = []
        for name_1 in self.names:
            emb_1 = self.embedder(name_1)  # TL404
            for name_2 in self.names:
                if name_1 == name_2:
                    continue
                emb_2 = self.embedder(name_2)  # ok: the same evaluation as above
                errors.append((emb_1.mm(emb_2.T).argmax(1) != torch.arange(5)).float().mean().item())
        return sum(errors) / len(errors)


embedder = Embedder(["a", "b", "c"])
embedder.load_state_dict(torch.load("embedder.pt"))
print(MeshAlignmentEvaluator(embedder, ["a", "b", "c"]).evaluate())
