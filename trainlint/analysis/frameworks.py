"""What the training frameworks do on the user's behalf, as data the rules consult.

PyTorch Lightning calls a LightningModule's hooks itself: `training_step` is the iteration
(its returned loss is backpropagated and stepped by the Trainer, unless the module turns
`automatic_optimization` off), while `validation_step`, `test_step` and `predict_step` run in
eval mode under `torch.no_grad()`: nothing computed there is trained on.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from trainlint.analysis.facts import ClassFacts, Scope
from trainlint.analysis.names import is_self

# Hooks Lightning runs with the model in eval mode and gradients off.
LIGHTNING_EVALUATION_HOOKS = frozenset({"validation_step", "test_step", "predict_step"})


def is_lightning_module(cls: ClassFacts) -> bool:
    """A subclass of Lightning's `LightningModule` (`pl.LightningModule`, `L.LightningModule`,
    through project base classes too)."""
    project = cls.module.project
    quals = project.base_quals(cls) if project is not None else []
    return any(q.rsplit(".", 1)[-1] == "LightningModule" for q in quals)


# Methods of a Hugging Face `Trainer` subclass that the Trainer calls with its own model as the
# `model` argument: the model given to the subclass's constructor.
HF_TRAINER_MODEL_HOOKS = frozenset({"compute_loss", "training_step", "prediction_step"})


def is_hf_trainer(cls: ClassFacts) -> bool:
    """A subclass of the Hugging Face `Trainer` (`Seq2SeqTrainer` too), through project base
    classes."""
    project = cls.module.project
    quals = project.base_quals(cls) if project is not None else []
    return any(q.startswith("transformers") and q.rsplit(".", 1)[-1] in ("Trainer", "Seq2SeqTrainer") for q in quals)


# Hooks the Trainer runs before each epoch's or batch's `training_step`, after it has put the
# whole module in training mode: where a frozen submodule is put back in eval mode.
LIGHTNING_TRAIN_START_HOOKS = ("on_train_epoch_start", "on_train_batch_start")


def lightning_hook(scope: Scope) -> Optional[Scope]:
    """The LightningModule method that is, or holds, `scope`."""
    s: Optional[Scope] = scope
    while s is not None:
        if s.cls is not None and is_lightning_module(s.cls):
            return s
        s = s.parent
    return None


def lightning_evaluation_hook(scope: Scope) -> bool:
    """The scope is, or is nested in, a LightningModule's validation, test or predict step."""
    hook = lightning_hook(scope)
    return hook is not None and hook.simple_name in LIGHTNING_EVALUATION_HOOKS


def manual_optimization(cls: ClassFacts) -> bool:
    """A LightningModule that sets `automatic_optimization = False` (in `__init__` or in the
    class body): its `training_step` then clears, backpropagates and steps by itself."""
    if not is_lightning_module(cls):
        return False
    bindings = cls.attrs.get("self.automatic_optimization", [])
    return any(isinstance(b.value, cst.Name) and b.value.value == "False" for b in bindings)


def lightning_handles_call(call: cst.Call, scope: Scope) -> Optional[str]:
    """`self.optimizers()` or `self.lr_schedulers()` in a LightningModule's method: the
    optimizers or schedulers that `configure_optimizers` returned, as Lightning hands them back
    (one, or a list of several). The answer is which of the two, or None."""
    func = call.func
    if (
        isinstance(func, cst.Attribute)
        and func.attr.value in ("optimizers", "lr_schedulers")
        and is_self(func.value)
        and scope.cls is not None
        and is_lightning_module(scope.cls)
    ):
        return func.attr.value
    return None
