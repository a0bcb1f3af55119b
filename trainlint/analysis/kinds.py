"""What a constructor or function produces, judged by its fully qualified name."""

from __future__ import annotations

import re
from typing import Optional

# Library models (outside torchvision and timm) whose forward runs batch norm: a pass in
# training mode uses the batch's statistics and updates the running ones.
LIBRARY_BATCHNORM_MODELS = frozenset({"pytorch_fid.inception.InceptionV3"})
# Methods that move or cast a module or tensor and return it (`model.to(device)`, `.half()`).
MOVE_METHODS = frozenset({"to", "cuda", "cpu", "float", "double", "half", "bfloat16"})

OPTIMIZER = "optimizer"
SCHEDULER = "scheduler"
LOSS = "loss"  # a loss module instance (nn.CrossEntropyLoss())
LOSS_FN = "loss_fn"  # a functional loss (F.cross_entropy)
SCALER = "scaler"
# timm's `NativeScaler`: `loss_scaler(loss, optimizer, clip_grad=...)` scales the loss, runs
# backward, unscales, clips and steps the optimizer in one call (it does not zero gradients).
LOSS_SCALER = "loss_scaler"
DATALOADER = "dataloader"
ACCELERATOR = "accelerator"
SAMPLER = "sampler"  # a DistributedSampler (its epoch is set by hand)
MODEL = "model"
TENSOR = "tensor"
OBJECT = "object"  # an instance of a project class that is neither a model nor an optimizer

_TORCH_NN_PREFIXES = ("torch.nn.", "torch.nn.modules.loss.", "torch.nn.modules.")

# Optimizer constructors outside torch.optim that behave like torch optimizers.
_OTHER_OPTIMIZER_PREFIXES = (
    "torch_optimizer.",
    "apex.optimizers.",
    "bitsandbytes.optim.",
    "timm.optim.",
    "transformers.optimization.Adafactor",
    "transformers.AdamW",
    "transformers.Adafactor",
    "transformers.optimization.AdamW",
    "deepspeed.ops.adam.",
    "lion_pytorch.Lion",
)

# Capitalised names under torch.nn that are not layers.
_NOT_MODULES = {
    "Module",
    "Parameter",
    "ParameterList",
    "ParameterDict",
    "Buffer",
    "ModuleList",
    "ModuleDict",
    "UninitializedParameter",
    "UninitializedBuffer",
}

# transformers classes loaded with from_pretrained that are not models.
_NOT_MODEL_WORDS = ("Tokenizer", "Processor", "Config", "FeatureExtractor", "Pipeline")

# Lightning Fabric plays the accelerator's part: `fabric.setup(model, opt)` hands them back.
FABRICS = {"lightning.Fabric", "lightning.fabric.Fabric", "lightning_fabric.Fabric", "lightning.fabric.fabric.Fabric"}

FUNCTIONAL_LOSSES = {
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "kl_div",
    "cosine_embedding_loss",
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "multilabel_margin_loss",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "triplet_margin_loss",
    "poisson_nll_loss",
    "gaussian_nll_loss",
    "ctc_loss",
    "multi_margin_loss",
}


_WARMUP_SCHEDULE_PACKAGES = ("pytorch_transformers.", "transformers.")
_WARMUP_SCHEDULE = re.compile(r"(Warmup\w*|ConstantLR)Schedule")


LOSS_SCALERS = (
    "timm.utils.NativeScaler",
    "timm.utils.cuda.NativeScaler",
    "timm.utils.ApexScaler",
    "timm.utils.cuda.ApexScaler",
)
DISTRIBUTED_SAMPLERS = (
    "torch.utils.data.distributed.DistributedSampler",
    "torch.utils.data.DistributedSampler",
)
# torch's DataLoader, and the graph libraries' subclasses of it (same `shuffle` and `sampler`).
DATALOADERS = (
    "torch.utils.data.DataLoader",
    "torch.utils.data.dataloader.DataLoader",
    "torch_geometric.loader.DataLoader",
    "torch_geometric.loader.dataloader.DataLoader",
    "torch_geometric.data.DataLoader",
    "dgl.dataloading.GraphDataLoader",
)


# Constructors known by their exact name.
_KIND_BY_NAME = {
    **dict.fromkeys(LOSS_SCALERS, LOSS_SCALER),
    **dict.fromkeys(DATALOADERS, DATALOADER),
    **dict.fromkeys(DISTRIBUTED_SAMPLERS, SAMPLER),
    **dict.fromkeys(("accelerate.Accelerator", "accelerate.accelerator.Accelerator", *FABRICS), ACCELERATOR),
}


def kind_of_constructor(qual: Optional[str]) -> Optional[str]:
    """The kind of object that calling `qual` returns, or None when unknown."""
    if not qual:
        return None
    last = qual.rsplit(".", 1)[-1]
    if qual.startswith("torch.optim.lr_scheduler.") or qual.startswith("transformers.get_") and "schedule" in qual:
        return SCHEDULER
    if qual.startswith("transformers.optimization.get_") and "schedule" in qual:
        return SCHEDULER
    if qual.startswith(_WARMUP_SCHEDULE_PACKAGES) and _WARMUP_SCHEDULE.fullmatch(last):
        return SCHEDULER  # `WarmupLinearSchedule(opt, ...)`: the older Hugging Face LambdaLR classes
    if qual.startswith("torch.optim.") and last[:1].isupper() and last not in ("Optimizer",):
        return OPTIMIZER
    if qual.startswith(_OTHER_OPTIMIZER_PREFIXES) or qual == "timm.optim.create_optimizer_v2":
        return OPTIMIZER
    if last == "GradScaler" and qual.startswith(
        ("torch.cuda.amp.", "torch.amp.", "torch.cpu.amp.", "torch.amp.grad_scaler.")
    ):
        return SCALER
    if qual in _KIND_BY_NAME:
        return _KIND_BY_NAME[qual]
    if qual.startswith(_TORCH_NN_PREFIXES) and (last.endswith("Loss") or last.endswith("Loss2d")):
        return LOSS
    if last.endswith("Loss") and last[:1].isupper() and not qual.startswith("torch."):
        return LOSS  # a loss class from a library or an unseen project module (`MultiBoxLoss`)
    if qual.startswith("torch.nn.functional.") and last in FUNCTIONAL_LOSSES:
        return TENSOR
    if qual in ("torch.nn.Sequential", "torch.nn.DataParallel", "torch.nn.parallel.DistributedDataParallel"):
        return MODEL
    if (qual.count(".") == 2 and qual.startswith("torch.nn.") or qual.startswith("torch.nn.modules.")) and last[
        :1
    ].isupper():
        if last not in _NOT_MODULES:
            return MODEL
    if qual.startswith(("torchvision.models.", "timm.create_model")) or qual in LIBRARY_BATCHNORM_MODELS:
        return MODEL
    if qual.startswith("transformers.") and (
        last.startswith(("Auto", "from_pretrained")) or _is_transformers_model(last)
    ):
        if not any(word in qual for word in _NOT_MODEL_WORDS):
            return MODEL
    return None


def _is_transformers_model(name: str) -> bool:
    """`BertModel`, `GPT2LMHeadModel`, `BertForSequenceClassification`, `VisionEncoderDecoderModel`."""
    return (
        name[:1].isupper()
        and (name.endswith("Model") or "For" in name[1:])
        and not name.startswith("TF")
        and not name.startswith("Flax")
    )


def declared_kind(qual: Optional[str]) -> Optional[str]:
    """The kind of object a type annotation names (`model: nn.Module`, `opt: Optimizer`)."""
    if not qual:
        return None
    if is_module_base(qual) or qual in (
        "torch.nn.Module",
        "transformers.PreTrainedModel",
        "transformers.modeling_utils.PreTrainedModel",
    ):
        return MODEL
    if qual in ("torch.optim.Optimizer", "torch.optim.optimizer.Optimizer"):
        return OPTIMIZER
    kind = kind_of_constructor(qual)
    return kind if kind in (MODEL, OPTIMIZER, SCHEDULER, DATALOADER, SCALER, ACCELERATOR, LOSS) else None


def is_functional_loss(qual: Optional[str]) -> bool:
    return bool(qual) and qual.startswith("torch.nn.functional.") and qual.rsplit(".", 1)[-1] in FUNCTIONAL_LOSSES  # type: ignore[union-attr]


def is_module_base(qual: Optional[str]) -> bool:
    return qual in (
        "torch.nn.Module",
        "torch.nn.modules.module.Module",
        "pytorch_lightning.LightningModule",
        "lightning.LightningModule",
        "lightning.pytorch.LightningModule",
        # (a Hugging Face model class is an `nn.Module`: `class MyModel(PreTrainedModel)`)
        "transformers.PreTrainedModel",
        "transformers.modeling_utils.PreTrainedModel",
    )


def guess_kind_from_name(name: str) -> Optional[str]:
    """Last resort: what a variable's name suggests it holds."""
    low = name.rsplit(".", 1)[-1].lower()
    if "sched" in low:
        return SCHEDULER
    if "scaler" in low:
        return SCALER
    if low.startswith("opt") or low.endswith(("optimizer", "optim", "opt")) or low in _OPTIMIZER_CLASS_NAMES:
        return OPTIMIZER
    return None


# A variable named after its optimizer's class (`adam = optimizers.adam; adam.step()`).
_OPTIMIZER_CLASS_NAMES = frozenset(
    {"adam", "adamw", "sgd", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "radam", "lamb", "lion", "adafactor"}
)
