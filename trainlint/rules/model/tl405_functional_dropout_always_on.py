"""TL405 functional-dropout-always-on: `F.dropout` in `forward` stays active at evaluation."""

from __future__ import annotations

import re
from typing import Iterator, List, Optional

import libcst as cst

from trainlint import fixes
from trainlint.analysis import calls as C
from trainlint.analysis import data as D
from trainlint.analysis import flow as FL
from trainlint.analysis import module_facts as M
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import ClassFacts, ModuleFacts, Scope
from trainlint.analysis.names import dotted
from trainlint.analysis.walk import walk
from trainlint.diagnostics import Diagnostic, Fix
from trainlint.fixes.builders import add_keyword, in_lambda
from trainlint.fixes.core import SAFE, UNSAFE, Locate, make_fix
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext
from trainlint.runtime.judging.common import no_eval_pass
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, refuted
from trainlint.runtime.records import DropoutState, FunctionalDropout

_FUNCTIONAL_DROPOUT = {
    "torch.nn.functional.dropout": 2,
    "torch.nn.functional.dropout1d": 2,
    "torch.nn.functional.dropout2d": 2,
    "torch.nn.functional.dropout3d": 2,
    "torch.nn.functional.alpha_dropout": 2,
    "torch.nn.functional.feature_alpha_dropout": 2,
}


def _mentions_training(expr: cst.BaseExpression, module: ModuleFacts) -> bool:
    return "self.training" in module.tree.code_for_node(expr)


def _under_training_check(method: Scope, call: cst.Call) -> bool:
    """The call sits in the body of `if self.training ...:` or of `... if self.training else ...`."""
    mod = method.module
    for comp in SC.enclosing(method, call):
        if isinstance(comp, cst.If) and SC.inside(method, comp.body, call) and _mentions_training(comp.test, mod):
            return True
    return any(
        isinstance(node, cst.IfExp) and _mentions_training(node.test, mod) and SC.inside(method, node.body, call)
        for node in walk(method.node)
    )


def _forward_methods(cls: ClassFacts) -> List[Scope]:
    """`forward` and the methods it calls through `self.` (one level)."""
    fwd = cls.methods.get("forward")
    if fwd is None:
        return []
    out = [fwd]
    for call in fwd.calls:
        d = dotted(call.func)
        if d is not None and d.startswith("self.") and d.count(".") == 1:
            m = cls.methods.get(d[5:])
            if m is not None and m is not fwd and m not in out:
                out.append(m)
    return out


# Dropout modules: one built inside `forward` is a fresh module, in training mode, at every call.
_DROPOUT_MODULES = frozenset(
    f"torch.nn.{name}"
    for name in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout")
)


def functional_dropout_always_on(ctx: RuleContext) -> Iterator[Finding]:
    mod = ctx.module
    for cls in mod.classes.values():
        if not M.is_module_class(cls, ctx.project) and not _module_by_its_layers(cls, ctx):
            continue
        for method in _forward_methods(cls):
            yield from _fresh_dropout_modules(cls, method)
            yield from _attention_dropout(cls, method)
            for call in method.calls:
                qual = mod.qualify(call.func)
                if qual not in _FUNCTIONAL_DROPOUT:
                    continue
                if any(a.star for a in call.args) or _under_training_check(method, call):
                    continue  # `if self.training: x = F.dropout(x, p)` only runs in training mode
                if cls.name.lower().endswith("prenet"):
                    continue  # Tacotron's pre-net keeps its dropout at inference by design
                training = C.arg(call, _FUNCTIONAL_DROPOUT[qual], "training")
                text = FL.snippet(mod, call)
                if training is not None:
                    if _always_true(training) and not _monte_carlo(cls, method):
                        yield _forced_on(mod, cls, method, call, text)
                    continue
                name = qual.rsplit(".", 1)[-1]
                effect = (
                    f"`F.{name}` defaults to `training=False`: it never drops anything, not even while "
                    "training, so the regularisation it was written for does not happen"
                    if qual in _OFF_BY_DEFAULT
                    else f"`F.{name}` defaults to `training=True`: it keeps dropping units after `model.eval()`, "
                    "so evaluation and inference are random and degraded"
                )
                yield Finding(
                    "TL405",
                    mod,
                    call,
                    f"`{text}` in `{cls.name}.{method.simple_name}` does not pass `training=`, and {effect}. "
                    "Pass `training=self.training`, or use an `nn.Dropout` module, which follows "
                    "`model.train()`/`model.eval()`.",
                    fix_builder=fixes.hook(fix_tl405, mod, method, call),
                )


def _module_by_its_layers(cls: ClassFacts, ctx: RuleContext) -> bool:
    """A class built on a base the analysis lacks (`class AFM(ContextRecommender)`, imported
    from a file out of sight) that defines `forward` and builds `torch.nn` layers: a module."""
    if "forward" not in cls.methods or not cls.bases or ctx.project.base_classes(cls):
        return False
    mod = cls.module
    quals = [
        mod.qualify(b.value.func) or ""
        for bindings in cls.attrs.values()
        for b in bindings
        if isinstance(b.value, cst.Call)
    ]
    return any(q.startswith("torch.nn.") and q.rsplit(".", 1)[-1][:1].isupper() for q in quals)


def _always_true(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "True"


# Dropout kept on at inference on purpose (Monte Carlo dropout, Bayesian approximations), as
# the class's or method's name or a comment in the method says.
_MC_WORDS = ("mc", "monte", "bayes", "uncertain", "stochastic")
_MC_COMMENT = re.compile(r"#[^\n]*(?:monte|\bmc\b|mc[ _-]?dropout|bayes|uncertaint)", re.IGNORECASE)


def _monte_carlo(cls: ClassFacts, method: Scope) -> bool:
    names = f"{cls.name} {method.simple_name}".lower()
    if any(w in names for w in _MC_WORDS):
        return True
    return _MC_COMMENT.search(method.module.tree.code_for_node(method.node)) is not None


def _forced_on(mod: ModuleFacts, cls: ClassFacts, method: Scope, call: cst.Call, text: str) -> Finding:
    return Finding(
        "TL405",
        mod,
        call,
        f"`{text}` in `{cls.name}.{method.simple_name}` passes `training=True`, so it keeps dropping units "
        "after `model.eval()`: evaluation and inference are random and degraded. Pass "
        "`training=self.training` (or use an `nn.Dropout` module, which follows `model.train()`/"
        "`model.eval()`); if dropout at inference is intended (Monte Carlo dropout), mark the line "
        "`# noqa: TL405`.",
    )


def _fresh_dropout_modules(cls: ClassFacts, method: Scope) -> Iterator[Finding]:
    """`nn.Dropout(0.5)(x)` in `forward`: the module is built there, so `model.eval()` never
    reaches it and it drops units in every mode."""
    mod = method.module
    for call in method.calls:
        inner = call.func
        if not isinstance(inner, cst.Call) or mod.qualify(inner.func) not in _DROPOUT_MODULES:
            continue
        text = FL.snippet(mod, inner)
        yield Finding(
            "TL405",
            mod,
            call,
            f"`{text}` is built inside `{cls.name}.{method.simple_name}` and applied at once: it is a new "
            "module, in training mode, at every call, which `model.eval()` never reaches, so evaluation "
            "and inference keep dropping units. Build it once in `__init__` (`self.dropout = "
            f"{text}`) and call `self.dropout(x)` in `{method.simple_name}`.",
        )


_ATTENTION = "torch.nn.functional.scaled_dot_product_attention"


def _attention_dropout(cls: ClassFacts, method: Scope) -> Iterator[Finding]:
    """`F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout)`: the function has no
    `training` flag, so a `dropout_p` that does not depend on `self.training` drops attention
    weights in eval mode too."""
    mod = method.module
    idx = D.scope_index(method)
    for call in method.calls:
        if mod.qualify(call.func) != _ATTENTION or any(a.star for a in call.args):
            continue
        arg = C.arg(call, 4, "dropout_p")
        if arg is None or _is_zero(arg) or _mentions_training(arg, mod) or _under_training_check(method, call):
            continue
        if isinstance(arg, cst.Name):
            defs, open_before = idx.reaching(arg.value, call)
            if (
                open_before
                or not defs
                or any(d.value is None or _is_zero(d.value) or _mentions_training(d.value, mod) for d in defs)
            ):
                continue  # (`p = self.p if self.training else 0.0`, or a parameter set by the caller)
        text = FL.snippet(mod, arg)
        yield Finding(
            "TL405",
            mod,
            call,
            f"`scaled_dot_product_attention` in `{cls.name}.{method.simple_name}` gets `dropout_p={text}` "
            "whatever the mode: unlike `nn.Dropout`, the function has no `training` flag, so it keeps "
            "dropping attention weights after `model.eval()` and evaluation and generation are random. "
            f"Pass `dropout_p={text} if self.training else 0.0`.",
        )


def _is_zero(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, (cst.Integer, cst.Float)) and float(expr.value) == 0.0


# Functional dropouts whose `training` defaults to False: off in every mode, so passing
# `training=self.training` turns them on in training, not off in evaluation.
_OFF_BY_DEFAULT = frozenset({"torch.nn.functional.alpha_dropout", "torch.nn.functional.feature_alpha_dropout"})


def fix_tl405(locate: Locate, module: ModuleFacts, method: Scope, call: cst.Call) -> Optional[Fix]:
    """`F.dropout(x, p)` -> `F.dropout(x, p, training=self.training)` in a module method:
    safe where `training` defaults to True (evaluation changes, training does not); unsafe for
    the alpha dropouts, whose default is False, since training then changes."""
    if not method.params or method.params[0] != "self" or in_lambda(module, call) or any(a.star for a in call.args):
        return None
    new = add_keyword(module, call, "training", "self.training")
    if module.qualify(call.func) in _OFF_BY_DEFAULT:
        return make_fix(
            module,
            {call: new},
            UNSAFE,
            "Pass `training=self.training` (this turns it on in training: it is off by default)",
        )
    return make_fix(module, {call: new}, SAFE, "Pass `training=self.training`")


def verdict_tl405(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    events = c.ev.events_of(FunctionalDropout)
    on = [e for e in events if e.state == DropoutState.ACTIVE_IN_EVAL]
    if on:
        e = on[0]
        return confirmed(
            observed=f"`F.{e.fn}` was active inside `{e.module}` while the model was in eval mode",
            expected="dropout off in eval mode",
            where=c.where(e.site),
        )
    if events:
        return refuted(
            observed=f"`F.{events[0].fn}` was off while the model was in eval mode",
            where=c.where(events[0].site),
        )
    return no_eval_pass(c)


RULE = Rule(
    code="TL405",
    name="functional-dropout-always-on",
    family="model",
    severity=WARNING,
    summary="`F.dropout` in `forward` stays active at evaluation.",
    fixable=True,
    check=functional_dropout_always_on,
    fixes=(fix_tl405,),
    verdict=verdict_tl405,
    needs_eval_pass=True,
)
