"""TL503 weight-decay-on-norm-and-bias: weight decay pulls normalisation gains, biases and
embedding rows towards zero when the optimizer is given `model.parameters()` whole."""

from __future__ import annotations

from typing import Iterator, List, Optional

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis import data as D
from trainlint.analysis.facts import Scope
from trainlint.analysis.flow import facts_of_value
from trainlint.analysis.lr import WEIGHT_DECAY_POSITION, LrResolver, torch_optimizer
from trainlint.analysis.module_facts import Layer
from trainlint.rules.base import INFO, Finding, Rule, RuleContext

# Below this a decay changes nothing a run could notice (UNet's RMSprop uses 1e-8).
NEGLIGIBLE = 1e-6
# AdamW decays by default; the others do not.
_DEFAULT_DECAY = {"AdamW": 0.01}

_NORMS = ("BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm", "RMSNorm", "SyncBatchNorm", "LocalResponseNorm")
_EMBEDDINGS = ("Embedding", "EmbeddingBag")


def weight_decay_on_norm_and_bias(ctx: RuleContext) -> Iterator[Finding]:
    mod = ctx.module
    decays = LrResolver(ctx.project)
    for scope in mod.scopes:
        for call in scope.calls:
            name = torch_optimizer(mod.qualify(call.func))
            if name is None or D.has_star_args(call):
                continue
            params = C.arg(call, 0, "params")
            owner = _whole_model(params)
            if owner is None:
                continue  # parameter groups, a filtered list, or a value not known here
            decay = _decay(call, name, scope, decays)
            if decay is None or decay < NEGLIGIBLE:
                continue
            exposed = _exposed_layers(owner, scope, ctx)
            if not exposed:
                continue  # nothing known to hold a normalisation or embedding layer
            model = mod.tree.code_for_node(owner)
            shown = ", ".join(f"`{_shown_name(layer, model)}` ({layer.type_name})" for layer in exposed[:3])
            more = f" and {len(exposed) - 3} more" if len(exposed) > 3 else ""
            default = " (AdamW's default)" if C.arg(call, 4, "weight_decay") is None else ""
            yield Finding(
                "TL503",
                mod,
                call,
                f"`{name}` decays every parameter of `{model}` with weight_decay={decay:g}{default}, "
                f"including its normalisation and embedding layers ({shown}{more}) and every bias. "
                "Decay pulls them towards zero: it fights the scale a normalisation layer learns "
                "and shrinks the rows of rare tokens, while a gain or a bias adds no capacity worth "
                "regularising. Build two parameter groups: the weight matrices with decay, and the "
                "1-D parameters (biases, norm weights) and embeddings with `weight_decay=0.0`.",
            )


def _shown_name(layer: Layer, model: str) -> str:
    """`seq[1]` for an element of a Sequential the code calls `seq` (its facts call it `model`)."""
    return model + layer.name[len("model") :] if layer.name.startswith("model[") else layer.name


def _whole_model(params: Optional[cst.BaseExpression]) -> Optional[cst.BaseExpression]:
    """`m` when the optimizer is given `m.parameters()` (directly, or through `list(...)` /
    `filter(fn, ...)`, which keep every trainable parameter)."""
    if isinstance(params, cst.Call) and isinstance(params.func, cst.Name) and params.args:
        wrapper, args = params.func.value, params.args
        if wrapper == "list" and len(args) == 1:
            params = args[0].value
        elif wrapper == "filter" and len(args) == 2:
            params = args[1].value
    if not isinstance(params, cst.Call) or params.args:
        return None
    func = params.func
    if not isinstance(func, cst.Attribute) or func.attr.value != "parameters":
        return None
    return func.value


def _decay(call: cst.Call, name: str, scope: Scope, decays: LrResolver) -> Optional[float]:
    """The weight decay every path gives the optimizer (the smallest, when several reach it)."""
    expr = C.arg(call, WEIGHT_DECAY_POSITION[name], "weight_decay")
    if expr is None:
        return _DEFAULT_DECAY.get(name)
    values = decays.values(expr, scope)
    if not values:
        return None
    return min(v.value for v in values)


def _exposed_layers(owner: cst.BaseExpression, scope: Scope, ctx: RuleContext) -> List[Layer]:
    """The normalisation and embedding layers of the model `owner` holds (affine ones only)."""
    value = ctx.resolver.value_of(owner, scope)
    if value is None or value.guess or value.alts:
        return []
    facts = facts_of_value(value, ctx.project)
    if facts is None:
        return []
    found: List[Layer] = []
    for layer in facts.walk():
        kind = layer.type_name or ""
        if kind.startswith(_NORMS) and _affine(layer) or kind in _EMBEDDINGS:
            found.append(layer)
    return found


def _affine(layer: Layer) -> bool:
    """A norm layer with learnable parameters (`affine=False` / `elementwise_affine=False` have none)."""
    if not isinstance(layer.node, cst.Call):
        return True
    kind = layer.type_name or ""
    keyword = "elementwise_affine" if kind in ("LayerNorm", "RMSNorm") else "affine"
    flag = C.arg(layer.node, None, keyword)
    if kind.startswith("InstanceNorm"):
        return D.is_true(flag)  # InstanceNorm has no affine parameters by default
    if kind == "LocalResponseNorm":
        return False
    return not (isinstance(flag, cst.Name) and flag.value == "False")


RULE = Rule(
    code="TL503",
    name="weight-decay-on-norm-and-bias",
    family="hparams",
    severity=INFO,
    summary="Weight decay is applied to normalisation, bias and embedding parameters.",
    default_enabled=False,
    check=weight_decay_on_norm_and_bias,
    no_runtime_check="the effect of a regulariser shows over a whole run, not in a few steps",
)
