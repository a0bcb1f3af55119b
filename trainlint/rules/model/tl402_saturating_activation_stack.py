"""TL402 saturating-activation-stack: A deep stack of sigmoid/tanh layers with no normalisation or residuals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

import libcst as cst

from trainlint.analysis import flow as FL
from trainlint.analysis import module_facts as M
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import ClassFacts, ModuleFacts
from trainlint.analysis.names import dotted
from trainlint.analysis.symbols import return_values
from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext
from trainlint.runtime.judging.common import grad_ratio
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, num, refuted, unverified
from trainlint.runtime.judging.evidence import finite
from trainlint.runtime.records import Activation


@dataclass(frozen=True)
class Options:
    min_depth: int = 4


_SATURATING = frozenset({"Sigmoid", "Tanh"})


_NEUTRAL = (
    M.WEIGHT_LAYERS
    | M.PASSTHROUGH_LAYERS
    | frozenset(
        {
            "MaxPool1d",
            "MaxPool2d",
            "MaxPool3d",
            "AvgPool1d",
            "AvgPool2d",
            "AvgPool3d",
            "AdaptiveAvgPool1d",
            "AdaptiveAvgPool2d",
            "AdaptiveMaxPool1d",
            "AdaptiveMaxPool2d",
        }
    )
)


_NORM_FUNCS = frozenset(
    {
        "torch.nn.functional.layer_norm",
        "torch.nn.functional.batch_norm",
        "torch.nn.functional.group_norm",
        "torch.nn.functional.instance_norm",
        "torch.nn.functional.normalize",
    }
)


_SKIP_FUNCS = FL.SHAPE_FUNCS | frozenset({"torch.nn.functional.dropout", "torch.nn.functional.linear"})


SAT, RESET, NEUTRAL = "sat", "reset", "neutral"


def _longest_run(steps: List[Tuple[str, cst.CSTNode]]) -> Tuple[int, Optional[cst.CSTNode]]:
    """Longest run of saturating steps with no reset between; and the run's first node."""
    best, best_node = 0, None
    run, run_node = 0, None
    for kind, node in steps:
        if kind == SAT:
            if run == 0:
                run_node = node
            run += 1
            if run > best:
                best, best_node = run, run_node
        elif kind == RESET:
            run = 0
    return best, best_node


def _flatten(layer: M.Layer) -> Optional[List[M.Layer]]:
    out: List[M.Layer] = []
    for child in layer.children:
        if child.type_name == "Sequential" and child.cls is None:
            if child.dynamic:
                return None
            inner = _flatten(child)
            if inner is None:
                return None
            out.extend(inner)
        else:
            out.append(child)
    return out


def _layer_step(layer: M.Layer) -> str:
    name = layer.type_name
    if layer.cls is None and name in _SATURATING:
        return SAT
    if layer.cls is None and name in _NEUTRAL:
        return NEUTRAL
    return RESET  # norms, other activations, residual blocks, anything unknown


def _sequential_stacks(ctx: RuleContext) -> Iterator[Tuple[M.Layer, int, cst.CSTNode]]:
    mod = ctx.module
    seq_calls = [
        (scope, call)
        for scope in mod.scopes
        for call in scope.calls
        if M.nn_layer_name(mod.qualify(call.func)) == "Sequential"
    ]
    nested = {id(arg.value) for _, call in seq_calls for arg in call.args}
    for scope, call in seq_calls:
        if id(call) in nested:
            continue
        layer = M.layer_from_expr("model", call, scope, ctx.project)
        if layer is None or layer.dynamic:
            continue
        flat = _flatten(layer)
        if flat is None:
            continue
        # Report the last saturating layer of the run (the one nearest the output).
        steps: List[Tuple[str, cst.CSTNode]] = [(_layer_step(x), x.node) for x in reversed(flat)]
        tail = next((i for i, x in enumerate(reversed(flat)) if x.type_name not in M.PASSTHROUGH_LAYERS), None)
        if tail is not None and steps[tail][0] == SAT:
            # An output activation (probabilities, bounded outputs) is the task's, not a hidden layer.
            steps[tail] = (RESET, steps[tail][1])
        depth, node = _longest_run(steps)
        if node is not None:
            yield layer, depth, node


def _forward_chain(cls: ClassFacts, ctx: RuleContext) -> List[Tuple[str, cst.CSTNode]]:
    """Steps along the main data path of `forward`, from the returned value backwards."""
    facts = M.class_facts(cls, ctx.project)
    fwd = facts.forward
    if fwd is None or fwd.cls is not cls:
        return []
    returns = return_values(fwd)
    if len(returns) != 1:
        return []
    mod = fwd.module
    steps: List[Tuple[str, cst.CSTNode]] = []
    e: cst.BaseExpression = returns[0]
    for _ in range(80):
        if isinstance(e, cst.Name):
            found = SC.reaching(fwd, e.value, e)
            if len(found) != 1 or found[0].how != "assign" or found[0].index is not None:
                break
            e = found[0].value
            continue
        if not isinstance(e, cst.Call) or not e.args:
            if (
                isinstance(e, cst.Call)
                and isinstance(e.func, cst.Attribute)
                and e.func.attr.value in ("sigmoid", "tanh")
            ):
                steps.append((SAT, e))
                e = e.func.value
                continue
            break
        qual = mod.qualify(e.func)
        first = e.args[0].value
        if qual is not None:
            kind = FL.FUNC_OPS.get(qual)
            if kind in (M.SIGMOID, M.TANH):
                steps.append((SAT, e))
            elif kind == M.LINEAR or qual in _SKIP_FUNCS:
                steps.append((NEUTRAL, e))
            elif qual in _NORM_FUNCS or kind is not None:
                steps.append((RESET, e))
            else:
                break
            e = first
            continue
        d = dotted(e.func)
        if d is not None and d.startswith("self.") and d.count(".") == 1:
            layer = facts.layer(d[5:])
            if layer is None or layer.type_name == "Sequential":
                break
            steps.append((_layer_step(layer), e))
            e = first
            continue
        if isinstance(e.func, cst.Attribute) and e.func.attr.value in FL.SHAPE_METHODS:
            e = e.func.value
            continue
        break
    return steps


def saturating_activation_stack(ctx: RuleContext) -> Iterator[Finding]:
    min_depth = int(ctx.options.get("min_depth", 4))
    mod = ctx.module
    for seq, depth, last in _sequential_stacks(ctx):
        if depth >= min_depth:
            # The Sequential is the report; its last saturating layer is named in the message.
            text = FL.snippet(mod, last)
            yield _stack_finding(
                mod,
                seq.node,
                depth,
                f"in this `nn.Sequential` (the last one is `{text}`, {FL.where(mod, last)})",
                related=[(mod, last, f"the last of {depth} saturating layers in a row")],
            )
    for cls in mod.classes.values():
        if not M.is_module_class(cls, ctx.project):
            continue
        chain = _forward_chain(cls, ctx)
        if chain and chain[0][0] == SAT:
            chain[0] = (RESET, chain[0][1])  # the output activation itself
        depth, node = _longest_run(chain)
        if node is not None and depth >= min_depth:
            yield _stack_finding(mod, node, depth, f"along `{cls.name}.forward`")


def _stack_finding(
    mod: ModuleFacts,
    node: cst.CSTNode,
    depth: int,
    where: str,
    related: Optional[List[Tuple[ModuleFacts, cst.CSTNode, str]]] = None,
) -> Finding:
    return Finding(
        "TL402",
        mod,
        node,
        f"{depth} sigmoid/tanh layers follow one another {where} with no normalisation or residual "
        "connection: each one scales the backward signal by its derivative (at most 0.25 for sigmoid, 1 for "
        "tanh and much less once saturated), so the first layers get vanishing gradients and barely learn. "
        "Use ReLU-family activations (ReLU, GELU, SiLU), add normalisation (BatchNorm/LayerNorm) between "
        "layers, or residual connections.",
        related=related or [],
    )


def verdict_tl402(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    found = grad_ratio(c)
    limit = float(c.opts("TL902").get("ratio", 100.0))
    if found is not None and found[3] > limit:
        s, first, last, ratio = found
        return confirmed(
            observed=f"gradient norm of the first layer `{first[1]}` is {fmt(first[3].grad)}, of the last "
            f"layer `{last[1]}` {fmt(last[3].grad)} (ratio {fmt(ratio)}) at step {s.opt_step}",
            expected=f"ratio below {fmt(limit)}",
            step=s.opt_step,
        )
    # The stack's other failure: units pinned at their bounds, where the derivative is ~0. With
    # large weights the gradient need not shrink towards the input, but the units cannot learn.
    o = c.opts("TL905")
    sat_limit = float(o.get("max_saturated_fraction", 0.5))
    acts = [
        a
        for a in (c.ev.activations.layers if c.ev.activations is not None else [])
        if a.activation in (Activation.SIGMOID, Activation.TANH) and finite(a.saturated_fraction)
    ]
    acts = c.prefer(d, acts, lambda a: a.site)
    saturated = [a for a in acts if num(a.saturated_fraction) > sat_limit]
    if saturated:
        worst = max(saturated, key=lambda a: num(a.saturated_fraction))
        return confirmed(
            observed=f"{len(saturated)} of the {len(acts)} {worst.activation} layer(s) had most outputs within "
            f"{fmt(o.get('epsilon', 0.01))} of their bounds (up to {fmt(100 * num(worst.saturated_fraction))}% "
            f"in `{worst.name}`), where their derivative is nearly zero",
            expected=f"at most {fmt(100 * sat_limit)}% saturated outputs per layer",
            where=c.where(worst.site),
            saturated_fraction=worst.saturated_fraction,
        )
    if found is None:
        return None
    s, first, last, ratio = found
    text = (
        f"gradient norm of the first layer `{first[1]}` is {fmt(first[3].grad)}, of the last layer `{last[1]}` "
        f"{fmt(last[3].grad)} (ratio {fmt(ratio)}) at step {s.opt_step}"
    )
    if ratio < 1 / limit:
        return unverified(
            f"{text}: the gradient grows towards the input instead of vanishing, which this check "
            "does not judge (see TL903)"
        )
    if acts:
        text += f"; at most {fmt(100 * max(num(a.saturated_fraction) for a in acts))}% of any activation layer's outputs saturated"
    return refuted(observed=text, step=s.opt_step)


RULE = Rule(
    code="TL402",
    name="saturating-activation-stack",
    family="model",
    severity=WARNING,
    summary="A deep stack of sigmoid/tanh layers with no normalisation or residuals.",
    options=Options,
    check=saturating_activation_stack,
    verdict=verdict_tl402,
)
