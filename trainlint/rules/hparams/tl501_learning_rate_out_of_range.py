"""TL501 learning-rate-out-of-range: A literal learning rate far outside the usual range for its optimizer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis import data as D
from trainlint.analysis import kinds as K
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.lr import LrResolver, LrValue, family
from trainlint.analysis.names import dotted
from trainlint.analysis.purpose import is_test_code
from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext
from trainlint.runtime.judging.common import update_ratios
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, refuted


# Ranges around each family's documented default (see rules/TL501-learning-rate-out-of-range.md).
# The bounds sit beyond the extreme published, working settings, so that "far outside" is
# really far: Adam-family rates from 5e-7 (DPO fine-tuning of 7B models) to 0.2 (SGC, a single
# linear layer) are in use; SGD from about 1e-6 to 30 (AWD-LSTM, with gradient clipping).
@dataclass(frozen=True)
class Options:
    adam_min: float = 3e-7
    adam_max: float = 0.5
    sgd_min: float = 1e-6
    sgd_max: float = 50.0
    rmsprop_min: float = 3e-7
    rmsprop_max: float = 0.5
    adagrad_min: float = 1e-5
    adagrad_max: float = 1.0


_FAMILY_TEXT = {"adam": "Adam-family", "sgd": "SGD", "rmsprop": "RMSprop", "adagrad": "Adagrad"}


_TYPICAL = {"adam": "1e-3 or 3e-4", "sgd": "0.1 to 0.01 (with momentum)", "rmsprop": "1e-3", "adagrad": "1e-2"}


# Schedulers that replace or multiply the optimizer's lr by their own values, so the
# constructor's lr is not the rate that is used (Noam-style LambdaLR, OneCycleLR, CyclicLR).
_LR_OVERRIDING = {"LambdaLR", "MultiplicativeLR", "OneCycleLR", "CyclicLR"}


# A project's own range-test scheduler (`FindLR(optimizer, max_lr=10)`) or any schedule that
# climbs to a `max_lr` starts from a constructor rate that is only its floor.
_RANGE_TEST = re.compile(r"\bLRFinder\b|\blr_find(?:er)?\b|\.range_test\(|\bfind_?lr\b|\bmax_lr\b", re.IGNORECASE)


# `group["lr"] = ...` sets the rate by hand (warm-up, custom schedules); `*=` only decays it.
_MANUAL_LR = re.compile(r"""\[\s*['"]lr['"]\s*\]\s*=(?!=)""")


# A loss summed over elements (not averaged) scales the gradient by their number: a tiny rate
# compensates for it (FCN's 1e-10 with a per-pixel summed loss).
_SUMMED_LOSS = re.compile(r"""reduction\s*=\s*['"]sum['"]|size_average\s*=\s*False""")


# Parameters frozen or handed to a parameter-efficient method: only a few tensors (a prompt,
# LayerNorm gains, adapters) may train, and those take rates far above a weight matrix's.
_PARTIAL_TRAINING = re.compile(
    r"requires_grad\s*=\s*False|requires_grad_\(\s*False\s*\)|\bget_peft_model\b|\bPromptTuning|\bPrefixTuning"
    r"|\bPromptEncoder|\bPromptLearning"
)


# Names of parameters that are not weight matrices: prompts and prefixes, norm gains and biases,
# embeddings and latents optimised directly, temperatures and scales.
_NOT_WEIGHTS = re.compile(
    r"prompt|prefix|norm(?!al)|(?:^|[._])ln(?:_|\d|$|\.)|bias|latent|embed|temperature|logit_scale|soft_token",
    re.IGNORECASE,
)


def _schedulers_of(ctx: RuleContext) -> Tuple[Dict[int, Set[str]], Set[int]]:
    """Optimizer construction (id) -> names of the schedulers built on it; and the modules (ids)
    that build a rate-overriding scheduler on an optimizer the analysis cannot resolve (one per
    optimizer of a list, in a comprehension): which optimizer it drives is unknown there."""
    return ctx.project.once(_schedulers_of, lambda: _find_schedulers(ctx))


def _find_schedulers(ctx: RuleContext) -> Tuple[Dict[int, Set[str]], Set[int]]:
    out: Dict[int, Set[str]] = {}
    blind: Set[int] = set()
    for m in ctx.project.modules:
        for scope in m.scopes:
            for call in scope.calls:
                qual = m.qualify(call.func)
                if K.kind_of_constructor(qual) != K.SCHEDULER:
                    continue
                name = D.last_name(qual)
                opt = C.arg(call, 0, "optimizer", skip_star=True)
                if opt is None:
                    if name in _LR_OVERRIDING:
                        blind.add(id(m))
                    continue
                origins = _optimizer_origins(ctx, opt, scope, 0)
                if not origins and name in _LR_OVERRIDING:
                    blind.add(id(m))
                for origin in origins:
                    out.setdefault(id(origin), set()).add(name)
    return out, blind


def _optimizer_origins(ctx: RuleContext, expr: cst.BaseExpression, scope: Scope, depth: int) -> List[cst.CSTNode]:
    """The optimizer constructions a scheduler's argument may be, as of the scheduler's line."""
    if depth > 6:
        return []
    if isinstance(expr, cst.Call):
        if K.kind_of_constructor(scope.module.qualify(expr.func)) == K.OPTIMIZER:
            return [expr]
    if isinstance(expr, cst.Name):
        defs, _ = D.scope_index(scope).reaching(expr.value, expr)
        out: List[cst.CSTNode] = []
        for d in defs:
            value = d.value
            if (
                d.how == "assign"
                and d.path
                and isinstance(value, cst.Call)
                and isinstance(value.func, cst.Attribute)
                and value.func.attr.value == "prepare"
            ):
                i = d.path[0]
                if i < len(value.args):
                    out += _optimizer_origins(ctx, value.args[i].value, scope, depth + 1)
            elif d.how == "assign" and not d.path:
                out += _optimizer_origins(ctx, value, scope, depth + 1)
        if out:
            return out
    v = ctx.resolver.value_of(expr, scope)
    return [v.origin] if v is not None and v.origin is not None else []


_WEIGHTS, _OTHER, _UNKNOWN = "weights", "other", "unknown"


def _combine(kinds: List[str]) -> str:
    if _WEIGHTS in kinds:
        return _WEIGHTS
    if kinds and all(k == _OTHER for k in kinds):
        return _OTHER
    return _UNKNOWN


def _params_kind(expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> str:
    """What the optimizer's first argument trains: the weights of a network (`model.parameters()`),
    something else (a latent or prompt tensor, norm gains, param groups with their own rates),
    or unknown. Only the rate given to weight matrices is judged against the usual ranges."""
    if depth > 6:
        return _UNKNOWN
    if isinstance(expr, cst.Call):
        return _call_params_kind(expr, scope, depth)
    if isinstance(expr, (cst.List, cst.Tuple)):
        return _combine([_element_params_kind(el, scope, depth) for el in expr.elements])
    if isinstance(expr, (cst.ListComp, cst.GeneratorExp)):
        f = expr.for_in
        if f.inner_for_in is not None:
            return _UNKNOWN
        for cond in f.ifs:
            text = scope.module.tree.code_for_node(cond.test)
            if "requires_grad" not in text or _NOT_WEIGHTS.search(text):
                return _OTHER  # a selection of the parameters (by name, by kind): which ones is unclear
        return _params_kind(f.iter, scope, depth + 1)
    if isinstance(expr, (cst.Name, cst.Attribute)):
        return _named_params_kind(expr, scope, depth)
    return _UNKNOWN


def _call_params_kind(expr: cst.Call, scope: Scope, depth: int) -> str:
    func = expr.func
    if isinstance(func, cst.Attribute) and func.attr.value in ("parameters", "named_parameters"):
        recv = dotted(func.value) or ""
        return _OTHER if _NOT_WEIGHTS.search(recv) else _WEIGHTS
    fname = D.last_name(dotted(func))
    if fname in ("list", "tuple", "chain", "from_iterable") and expr.args:
        return _combine([_params_kind(a.value, scope, depth + 1) for a in expr.args if not a.star])
    if fname == "filter" and len(expr.args) == 2:
        return _params_kind(expr.args[1].value, scope, depth + 1)
    return _UNKNOWN


def _element_params_kind(el: cst.BaseElement, scope: Scope, depth: int) -> str:
    """One element of a list of parameters or of param groups."""
    v = el.value
    if isinstance(el, cst.StarredElement) or isinstance(v, cst.Call):
        return _params_kind(v, scope, depth + 1)
    if isinstance(v, cst.Dict):
        keys = {
            e.key.evaluated_value: e.value
            for e in v.elements
            if isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)
        }
        if "lr" in keys:
            return _OTHER  # the group sets its own rate: the constructor's is unused there
        if "params" in keys:
            return _params_kind(keys["params"], scope, depth + 1)
        return _UNKNOWN
    if isinstance(v, (cst.Name, cst.Attribute, cst.Subscript)):
        return _OTHER  # a tensor optimised directly: a latent, a prompt, a single parameter
    return _UNKNOWN


def _named_params_kind(expr: cst.BaseExpression, scope: Scope, depth: int) -> str:
    text = dotted(expr) or ""
    if _NOT_WEIGHTS.search(text):
        return _OTHER
    if isinstance(expr, cst.Name):
        defs, open_before = D.scope_index(scope).reaching(expr.value, expr)
        if len(defs) == 1 and not open_before and defs[0].how == "assign" and not defs[0].path:
            return _params_kind(defs[0].value, scope, depth + 1)
        if defs and all(d.how in ("assign", "aug") and not d.path for d in defs):
            # `params = []` then `params += list(m.parameters())` / appends
            return _combine([_params_kind(d.value, scope, depth + 1) for d in defs])
    return _UNKNOWN


@dataclass
class _Built:
    scope: Scope
    call: cst.Call
    qual: Optional[str]
    fam: Optional[str]
    lr: cst.BaseExpression
    values: List[LrValue]


def _findings(ctx: RuleContext) -> List[Finding]:
    return ctx.project.once(_findings, lambda: _find_all(ctx))


def _find_all(ctx: RuleContext) -> List[Finding]:
    opts = ctx.options
    scheds, blind = _schedulers_of(ctx)
    summed_loss = any(_SUMMED_LOSS.search(m.text) for m in ctx.project.modules)
    built = _optimizers_with_literal_rates(ctx)
    # A value written once (an option's default, a constant) that reaches optimizers of several
    # families was chosen for one of them: which one runs is decided at run time.
    families_of: Dict[int, Set[Optional[str]]] = {}
    for b in built:
        for v in b.values:
            if v.source != "literal":
                families_of.setdefault(id(v.node), set()).add(b.fam)
    out: List[Finding] = []
    reported: Set[int] = set()
    for b in built:
        fam, m = b.fam, b.scope.module
        if fam is None:
            continue
        if scheds.get(id(b.call), set()) & _LR_OVERRIDING or id(m) in blind:
            continue
        if any(len(families_of.get(id(v.node), {fam})) > 1 for v in b.values):
            continue
        lo, hi = float(opts.get(f"{fam}_min", 0.0)), float(opts.get(f"{fam}_max", float("inf")))
        if not _out_of_range(b, lo, hi, summed_loss):
            continue
        opt_name = b.qual.rsplit(".", 1)[-1] if b.qual else "optimizer"
        if _training_arguments(b.qual):
            opt_name = "AdamW"  # what the Trainer builds from `TrainingArguments(learning_rate=...)`
        if id(b.lr) not in reported:
            reported.add(id(b.lr))
            out.append(_finding(b.values, opt_name, fam, lo, hi, m, b.lr))
    return out


def _optimizers_with_literal_rates(ctx: RuleContext) -> List[_Built]:
    """Every optimizer constructor of the project whose `lr` resolves to numbers."""
    resolver = LrResolver(ctx.project)
    built: List[_Built] = []
    for m in ctx.project.modules:
        # The module's optimizers are looked for first: that is much cheaper than the text searches.
        calls = [
            (scope, call, qual)
            for scope in m.scopes
            for call in scope.calls
            if K.kind_of_constructor(qual := m.qualify(call.func)) == K.OPTIMIZER or _training_arguments(qual)
        ]
        if not calls:
            continue
        if _MANUAL_LR.search(m.text):
            continue  # the lr is set by hand in param_groups: the constructor's value is a placeholder
        if _RANGE_TEST.search(m.text):
            continue  # an LR range test starts from a tiny rate on purpose
        for scope, call, qual in calls:
            if D.has_star_args(call) or is_test_code(scope):
                continue  # (a unit test's rate is a placeholder: `SGD(params, 999)  # lr will be loaded`)
            if _training_arguments(qual):
                # Hugging Face's Trainer builds the optimizer from `learning_rate=`: AdamW unless
                # `optim=` names another one
                lr = C.arg(call, None, "learning_rate", skip_star=True)
                fam: Optional[str] = "adam" if _trainer_optimizer_is_adam(call) else None
                qual = "transformers.TrainingArguments"
            else:
                lr = C.arg(call, 1, "lr", skip_star=True)
                fam = family(qual)
            if lr is None:
                continue  # the library default
            values = resolver.values(lr, scope)
            if values:
                built.append(_Built(scope, call, qual, fam, lr, values))
    return built


_TRAINING_ARGUMENTS = ("TrainingArguments", "Seq2SeqTrainingArguments")


def _training_arguments(qual: Optional[str]) -> bool:
    return qual is not None and qual.startswith("transformers.") and qual.rsplit(".", 1)[-1] in _TRAINING_ARGUMENTS


def _trainer_optimizer_is_adam(call: cst.Call) -> bool:
    optim = C.arg(call, None, "optim", skip_star=True)
    if optim is None:
        return True  # the default, AdamW
    return isinstance(optim, cst.SimpleString) and "adam" in optim.evaluated_value.lower()


def _out_of_range(b: _Built, lo: float, hi: float, summed_loss: bool) -> bool:
    """Every value of the rate is far outside [lo, hi], and nothing explains it."""
    m = b.scope.module
    high = all(v.value > hi for v in b.values)
    # A rate of exactly 0 is a choice (an optimizer kept only to clear gradients, or whose
    # rate a scheduler or a worker sets later), not a rate far too small.
    low = all(0 < v.value < lo for v in b.values)
    if not (high or low):
        return False  # in range, or a sweep / several configurations, some in range
    if low and summed_loss:
        return False  # a summed loss scales the gradient up; a tiny rate is the usual answer
    kind = _params_kind(b.call.args[0].value, b.scope) if b.call.args and not b.call.args[0].keyword else _UNKNOWN
    if kind == _OTHER:
        return False  # not weight matrices: prompts, latents, norm gains, groups with their own rate
    if high and _PARTIAL_TRAINING.search(m.text):
        return False  # most parameters frozen: the few that train may take a large rate
    return True


def _fmt(x: float) -> str:
    return f"{x:g}"


def _finding(
    values: List[LrValue], opt_name: str, fam: str, lo: float, hi: float, opt_mod: ModuleFacts, lr: cst.BaseExpression
) -> Finding:
    """Reported on the optimizer's `lr=` argument; where the number is written is related."""
    v = values[0]
    high = v.value > hi
    origin = {
        "literal": "",
        "constant": " (from a constant)",
        "default": " (a parameter's default that no caller overrides)",
        "argparse": " (the command-line option's default)",
    }[v.source]
    if high:
        effect = (
            "steps this large overshoot: the loss oscillates, diverges to NaN, or the network settles "
            "in a poor region (e.g. dead ReLUs)"
        )
    else:
        effect = "steps this small barely move the weights, so the loss looks stuck and training wastes its budget"
    side = "above" if high else "below"
    shown = ", ".join(sorted({_fmt(x.value) for x in values}))
    related = [(x.module, x.node, "the learning rate is set here") for x in values if x.node is not lr]
    return Finding(
        "TL501",
        opt_mod,
        lr,
        f"learning rate {shown}{origin} for `{opt_name}` is far {side} the usual range for "
        f"{_FAMILY_TEXT[fam]} optimizers ({_fmt(lo)} to {_fmt(hi)}): {effect}. Start from "
        f"{_TYPICAL[fam]}, or find the rate with a learning-rate range test.",
        related=related,
    )


def learning_rate_out_of_range(ctx: RuleContext) -> Iterator[Finding]:
    for f in _findings(ctx):
        if f.module is ctx.module:
            yield f


def verdict_tl501(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    opts = [o for o in c.ev.optimizers.values() if c.at(d, o.site)]
    ratios = update_ratios(c, opts[0].optimizer if opts else None)
    if not ratios:
        return None
    o = c.opts("TL909")
    lo, hi = float(o["min_ratio"]), float(o["max_ratio"])  # (TL909's thresholds)
    worst = max(ratios.items(), key=lambda kv: max(kv[1][0] / hi, lo / kv[1][0]))
    (opt, name), (ratio, _) = worst
    found = c.ev.optimizers.get(opt)
    lrs = found.lr if found is not None else None
    text = f"update/weight ratio of `{name}` was {fmt(ratio)} per step (lr {', '.join(fmt(x) for x in lrs or [])})"
    if ratio > hi or ratio < lo:
        return confirmed(
            observed=text, expected=f"about 1e-3, within [{fmt(lo)}, {fmt(hi)}]", parameter=name, ratio=ratio
        )
    return refuted(
        observed=f"{text}; all {len(ratios)} weight matrices stayed within [{fmt(lo)}, {fmt(hi)}]",
        parameter=name,
        ratio=ratio,
    )


RULE = Rule(
    code="TL501",
    name="learning-rate-out-of-range",
    family="hparams",
    severity=WARNING,
    summary="A literal learning rate far outside the usual range for its optimizer.",
    options=Options,
    check=learning_rate_out_of_range,
    verdict=verdict_tl501,
)
