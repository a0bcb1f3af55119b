"""TL2xx: the loss and the output layer (what a loss is fed, softmax without dim).

Every finding here rests on resolved facts: the loss is known from what built it
(`nn.CrossEntropyLoss()`, `F.nll_loss`), never from a variable's name, and the operation
before it is traced through assignments, helpers and the model's `forward`. When either is
unknown or the definitions disagree, nothing is reported.
"""
