"""Every rule trainlint knows: stable code, slug, family, default severity and one-line summary.

Codes and names are public (users put them in `--select`, `# noqa` and config), so they are
listed here once, whether the rule is static, runtime-only (TL9xx) or about the tool (TL0xx).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional

from trainlint.diagnostics import Diagnostic, Severity, Span

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741


@dataclass(frozen=True)
class RuleInfo:
    code: str
    name: str
    family: str
    severity: Severity
    summary: str
    kind: str = "static"  # "static" | "runtime" | "tool"
    default_enabled: bool = True
    fixable: bool = False

    @property
    def slug(self) -> str:
        return f"{self.code}-{self.name}"


_RULES: List[RuleInfo] = [
    # TL0xx: the tool itself
    RuleInfo("TL001", "syntax-error", "tool", E, "The file or notebook could not be read or parsed.", "tool"),
    RuleInfo("TL002", "internal-error", "tool", E, "A rule failed on this file; always a defect of trainlint.", "tool"),
    RuleInfo(
        "TL003", "script-error", "tool", E, "The traced script raised or exited before the requested steps.", "tool"
    ),
    # TL1xx: the optimisation loop
    RuleInfo(
        "TL101",
        "missing-zero-grad",
        "loop",
        E,
        "Gradients are never cleared in a training loop, so they accumulate across steps.",
        fixable=True,
    ),
    RuleInfo(
        "TL102",
        "zero-grad-before-step",
        "loop",
        E,
        "`zero_grad()` runs between `backward()` and `step()`, so the step sees no gradient.",
        fixable=True,
    ),
    RuleInfo(
        "TL103", "missing-optimizer-step", "loop", E, "The loop computes gradients but never updates the parameters."
    ),
    RuleInfo("TL104", "missing-backward", "loop", E, "The optimizer steps but no gradients are ever computed."),
    RuleInfo(
        "TL105",
        "scheduler-before-optimizer-step",
        "loop",
        W,
        "The learning-rate scheduler steps before the optimizer in an iteration.",
        fixable=True,
    ),
    RuleInfo(
        "TL106",
        "clip-grad-misplaced",
        "loop",
        W,
        "Gradient clipping runs before `backward()` or after `step()`, so it clips nothing that matters.",
        fixable=True,
    ),
    RuleInfo(
        "TL107",
        "grad-scaler-misuse",
        "loop",
        E,
        "The AMP `GradScaler` recipe is broken (unscale, update or scaled backward missing).",
        fixable=True,
    ),
    RuleInfo(
        "TL108",
        "backward-under-no-grad",
        "loop",
        E,
        "The training forward or `backward()` runs with gradients disabled.",
    ),
    # TL2xx: loss and output layer
    RuleInfo(
        "TL201",
        "softmax-before-cross-entropy",
        "loss",
        E,
        "Probabilities are fed to a cross-entropy loss that applies log_softmax itself.",
        fixable=True,
    ),
    RuleInfo(
        "TL202",
        "sigmoid-before-bce-with-logits",
        "loss",
        E,
        "Sigmoid outputs are fed to a BCE-with-logits loss that applies sigmoid itself.",
        fixable=True,
    ),
    RuleInfo("TL203", "bce-on-logits", "loss", E, "`BCELoss` gets raw logits instead of probabilities.", fixable=True),
    RuleInfo(
        "TL204",
        "nll-without-log-softmax",
        "loss",
        E,
        "`NLLLoss` gets values that are not log-probabilities.",
        fixable=True,
    ),
    RuleInfo("TL205", "regression-loss-for-classification", "loss", W, "A regression loss is used on class labels."),
    RuleInfo(
        "TL206",
        "activation-on-logits",
        "loss",
        W,
        "A classifier's last layer squashes the logits fed to cross-entropy.",
    ),
    RuleInfo(
        "TL207", "softmax-without-dim", "loss", W, "`softmax`/`log_softmax` without an explicit `dim`.", fixable=True
    ),
    # TL3xx: data and inputs
    RuleInfo(
        "TL301", "missing-input-normalization", "data", W, "Inputs reach the model without being scaled or normalised."
    ),
    RuleInfo("TL302", "unshuffled-training-data", "data", W, "A training DataLoader does not shuffle.", fixable=True),
    RuleInfo("TL303", "nan-prone-input", "data", W, "Tabular data becomes tensors without handling missing values."),
    # TL4xx: model structure and initialisation
    RuleInfo("TL401", "bad-weight-init", "model", E, "Weights initialised to a constant or at a far too large scale."),
    RuleInfo(
        "TL402",
        "saturating-activation-stack",
        "model",
        W,
        "A deep stack of sigmoid/tanh layers with no normalisation or residuals.",
    ),
    RuleInfo(
        "TL403",
        "missing-eval-mode",
        "model",
        W,
        "Evaluation runs in training mode, or training resumes in eval mode.",
        fixable=True,
    ),
    RuleInfo(
        "TL404",
        "eval-without-no-grad",
        "model",
        I,
        "An evaluation pass builds an autograd graph it never uses.",
        fixable=True,
    ),
    RuleInfo(
        "TL405",
        "functional-dropout-always-on",
        "model",
        W,
        "`F.dropout` in `forward` stays active at evaluation.",
        fixable=True,
    ),
    # TL5xx: hyperparameters
    RuleInfo(
        "TL501",
        "learning-rate-out-of-range",
        "hparams",
        W,
        "A literal learning rate far outside the usual range for its optimizer.",
    ),
    # TL6xx: the gradient path and manual updates
    RuleInfo("TL601", "detached-loss", "graph", E, "`backward()` is called on a value cut from the autograd graph."),
    RuleInfo(
        "TL602",
        "manual-update-wrong",
        "graph",
        E,
        "A hand-written parameter update ascends, rebinds, or runs with grad enabled.",
        fixable=True,
    ),
    RuleInfo(
        "TL603",
        "manual-update-no-grad-reset",
        "graph",
        E,
        "A hand-written update loop never clears `.grad`.",
        fixable=True,
    ),
    RuleInfo(
        "TL604",
        "loss-accumulated-with-graph",
        "graph",
        W,
        "A loss tensor is accumulated across iterations with its graph attached.",
        fixable=True,
    ),
    # TL9xx: runtime-only findings (tracer)
    RuleInfo("TL901", "non-finite-values", "runtime", E, "A NaN or Inf appeared during the traced steps.", "runtime"),
    RuleInfo(
        "TL902", "vanishing-gradient", "runtime", W, "Early layers receive vanishingly small gradients.", "runtime"
    ),
    RuleInfo(
        "TL903",
        "exploding-gradient",
        "runtime",
        W,
        "Gradient norms are huge or grow sharply towards the input.",
        "runtime",
    ),
    RuleInfo("TL904", "dead-relu", "runtime", W, "A ReLU layer outputs zero for most units.", "runtime"),
    RuleInfo("TL905", "saturated-activation", "runtime", W, "Sigmoid/tanh outputs sit at their bounds.", "runtime"),
    RuleInfo(
        "TL906",
        "unnormalized-input",
        "runtime",
        W,
        "The first batch's float inputs are far from zero mean and unit scale.",
        "runtime",
    ),
    RuleInfo(
        "TL907", "parameter-without-gradient", "runtime", W, "A trainable parameter receives no gradient.", "runtime"
    ),
    RuleInfo(
        "TL908",
        "parameter-not-updated",
        "runtime",
        W,
        "A trainable parameter is not updated by any optimizer step.",
        "runtime",
    ),
    RuleInfo(
        "TL909",
        "update-ratio-out-of-range",
        "runtime",
        W,
        "Per-layer update/weight ratio far from about 1e-3.",
        "runtime",
    ),
    RuleInfo(
        "TL910",
        "unexpected-initial-loss",
        "runtime",
        W,
        "The first classification loss is far from ln(num_classes).",
        "runtime",
    ),
    RuleInfo("TL911", "label-out-of-range", "runtime", E, "A class target lies outside [0, num_classes).", "runtime"),
    RuleInfo("TL912", "loss-not-decreasing", "runtime", W, "Repeating one batch, the loss does not fall.", "runtime"),
    RuleInfo(
        "TL913",
        "wrong-custom-gradient",
        "runtime",
        E,
        "A custom autograd Function's backward disagrees with finite differences.",
        "runtime",
    ),
]

RULES: Dict[str, RuleInfo] = {r.code: r for r in _RULES}
BY_NAME: Dict[str, RuleInfo] = {r.name: r for r in _RULES}


def lookup(code_or_name: str) -> Optional[RuleInfo]:
    key = code_or_name.strip()
    return RULES.get(key.upper()) or BY_NAME.get(key.lower())


def all_rules() -> Iterable[RuleInfo]:
    return list(_RULES)


def is_valid_selector(sel: str) -> bool:
    """`ALL`, a full code, or a prefix of at least one code (`TL`, `TL1`, `TL10`)."""
    sel = sel.strip().upper()
    if sel == "ALL":
        return True
    return any(code.startswith(sel) for code in RULES) and sel.startswith("TL")


def expand(selectors: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for sel in selectors:
        s = sel.strip().upper()
        if s == "ALL":
            out.update(RULES)
        else:
            out.update(c for c in RULES if c.startswith(s))
    return out


def tool_diagnostic(code: str, path: str, message: str, line: int = 1, column: int = 1) -> Diagnostic:
    """A finding of the tool itself (TL001 unreadable or unparsable file, TL002 rule failure)."""
    info = RULES[code]
    return Diagnostic(code, info.name, info.severity, message, path, Span(line, column, line, column))
