"""TL303 nan-prone-input: Tabular data becomes tensors without handling missing values."""

from __future__ import annotations

import re
from typing import Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis import data as D
from trainlint.analysis import derived as DV
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.names import dotted
from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext
from trainlint.rules.data.common import cached_findings, in_module
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, refuted

_TENSOR_FROM_DATA = {
    "torch.tensor",
    "torch.as_tensor",
    "torch.from_numpy",
    "torch.Tensor",
    "torch.FloatTensor",
    "torch.DoubleTensor",
    "torch.asarray",
    "torch.cuda.FloatTensor",
}


_READER_WORDS = ("read_csv", "read_table", "read_excel", "genfromtxt")


# A column of class labels (or targets): integer codes, not features that may have gaps.
_LABEL_KEY = re.compile(r"^(?:.*[_ ])?(?:labels?|targets?|class(?:es)?|category|categories|y)$", re.IGNORECASE)
# The corners of an annotated bounding box (`df[["xmin", "ymin", "xmax", "ymax"]]`): detection targets.
_BOX_KEY = re.compile(r"^[xy]_?(?:min|max|[12])$", re.IGNORECASE)


def _integer_conversions(module: ModuleFacts) -> Set[int]:
    """Tensor conversions (ids) whose result is cast to an integer or bool type right away:
    `torch.tensor(x).long()`, `torch.from_numpy(a).to(torch.int64)`."""
    return module.memo(_integer_conversions, lambda: _integer_casts(module))


def _integer_casts(module: ModuleFacts) -> Set[int]:
    out: Set[int] = set()
    for scope in module.scopes:
        for call in scope.calls:
            func = call.func
            if not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Call):
                continue
            m = func.attr.value
            if m in D.INT_METHODS and not call.args:
                out.add(id(func.value))
            elif m in ("to", "type"):
                dtype = C.arg(call, None, "dtype", skip_star=True) or (call.args[0].value if call.args else None)
                if D.dtype_kind(dtype, module) in ("int", "uint8"):
                    out.add(id(func.value))
    return out


def _integer_tensor(call: cst.Call, qual: str, module: ModuleFacts) -> bool:
    """The conversion makes an integer or bool tensor: it cannot hold NaN (labels, ids, indices,
    token ids)."""
    if qual in D.INT_CONVERTERS or D.dtype_kind(C.arg(call, None, "dtype", skip_star=True), module) in ("int", "uint8"):
        return True
    return id(call) in _integer_conversions(module)


def _label_column(expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> bool:
    """The converted data is one column selected by a label-like key (`df["label"].values`,
    `row["target"]`), following simple names."""
    node: cst.BaseExpression = expr
    for _ in range(8):
        if isinstance(node, cst.Attribute):
            if node.attr.value not in ("values", "array", "iloc", "loc"):
                return False
            node = node.value
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            if node.func.attr.value not in ("to_numpy", "astype", "tolist", "to_list", "item", "squeeze", "reshape"):
                return False
            node = node.func.value
        elif isinstance(node, cst.Subscript):
            if len(node.slice) == 1:
                idx = node.slice[0].slice
                if isinstance(idx, cst.Index) and isinstance(idx.value, cst.SimpleString):
                    key = idx.value.evaluated_value
                    return isinstance(key, str) and bool(_LABEL_KEY.match(key))
                if isinstance(idx, cst.Index) and isinstance(idx.value, cst.List):
                    keys = [
                        e.value.evaluated_value for e in idx.value.elements if isinstance(e.value, cst.SimpleString)
                    ]
                    return len(keys) == len(idx.value.elements) > 0 and all(
                        isinstance(k, str) and _BOX_KEY.match(k) for k in keys
                    )
            return False
        elif isinstance(node, cst.Name) and depth < 4:
            defs, open_before = D.scope_index(scope).reaching(node.value, node)
            if len(defs) != 1 or open_before or defs[0].how != "assign" or defs[0].path:
                return False
            return _label_column(defs[0].value, scope, depth + 1)
        else:
            return False
    return False


def _tl303(ctx: RuleContext) -> List[Finding]:
    project = ctx.project
    if not any(any(r in m.text for r in _READER_WORDS) for m in project.modules):
        return []  # no table is read anywhere: nothing to trace
    tracer = D.DataTracer(project, ctx.resolver, D.NAN)
    by_source: Dict[int, Tuple[D.Hit, ModuleFacts, cst.Call]] = {}
    order: List[int] = []
    for m in project.modules:
        for scope in m.scopes:
            for call in scope.calls:
                qual = m.qualify(call.func)
                if qual not in _TENSOR_FROM_DATA or not call.args or call.args[0].star:
                    continue
                if _integer_tensor(call, qual, m):
                    continue  # labels, ids, indices, token ids: an integer tensor holds no NaN
                if _label_column(call.args[0].value, scope):
                    continue  # a column of class labels, not features
                for hit in tracer.sources(call.args[0].value, scope):
                    if hit.kind != "nan-table" or id(hit.node) in by_source:
                        continue
                    if D.module_handles_nan(hit.module) or D.module_handles_nan(m):
                        continue
                    by_source[id(hit.node)] = (hit, m, call)
                    order.append(id(hit.node))
    out: List[Finding] = []
    for key in order:
        hit, conv_mod, conv = by_source[key]
        out.append(
            Finding(
                "TL303",
                conv_mod,
                conv,
                f"data read with `{hit.detail}` becomes a tensor here without "
                "any handling of missing values; an empty cell turns into NaN, and a single NaN in a batch "
                "makes the loss and every gradient NaN, which then spreads into all weights. Drop or fill "
                "missing values first (`df.dropna()`, `df.fillna(...)`, `SimpleImputer`, or "
                "`np.nan_to_num`).",
                related=[(hit.module, hit.node, "where the data is read")],
            )
        )
    return out


def nan_prone_input(ctx: RuleContext) -> Iterator[Finding]:
    yield from in_module(ctx, cached_findings(ctx, _tl303))
    if "isnan" in ctx.module.text or "nan_to_num" in ctx.module.text:
        for scope in ctx.module.scopes:
            yield from _sibling_left_with_nan(ctx.module, scope)


def _sibling_left_with_nan(module: ModuleFacts, scope: Scope) -> Iterator[Finding]:
    """A function that clears NaN out of several arrays it reads from one source
    (`s2_cube = np.where(np.isnan(s2_cube), 0, s2_cube)`, `target = ...`) and returns another
    array read from that source without the same step (`meteo_cube`): the one path that forgets
    the cleaning the others get."""
    if not isinstance(scope.node, cst.FunctionDef):
        return
    idx = D.scope_index(scope)
    cleaned = _nan_cleanings(idx)
    if len(cleaned) < 2 or not any(isinstance(n, cst.Return) and n.value is not None for n in DV.own_nodes(scope.node)):
        return
    by_root: Dict[str, List[str]] = {}
    for name in sorted(cleaned):
        r = _source_root(idx, name, cleaned[name])
        if r is not None and r != "self":
            by_root.setdefault(r, []).append(name)
    sources = [r for r, names in by_root.items() if len(names) >= 2]
    if len(sources) != 1:
        return  # (several arrays of one source cleaned: the pattern the others should follow)
    root = sources[0]
    examples = ", ".join(f"`{n}`" for n in by_root[root][:2])
    for name, defs in idx.defs.items():
        if name in cleaned or name == root or len(defs) != 1 or defs[0].how != "assign" or defs[0].path:
            continue
        value = defs[0].value
        if _root_name(value) != root or _mask_like(value) or not _read_later(scope, idx, name, defs[0].order):
            continue
        yield Finding(
            "TL303",
            module,
            defs[0].stmt,
            f"`{name}` is read from `{root}` like {examples}, which this function clears of NaN, but it is "
            "passed on as read: a missing value in it reaches the model, and a single NaN in a batch makes "
            "the loss and every gradient NaN. Replace its NaN the same way (e.g. "
            f"`{name} = np.where(np.isnan({name}), 0, {name})`).",
            related=[(module, cleaned[by_root[root][0]], "the other arrays are cleared of NaN here")],
        )


def _nan_cleanings(idx: D.ScopeIndex) -> Dict[str, cst.CSTNode]:
    """Names rebound to a NaN-free copy of themselves: `x = np.where(np.isnan(x), v, x)`,
    `x = np.nan_to_num(x)`, `x = torch.nan_to_num(x)`."""
    out: Dict[str, cst.CSTNode] = {}
    for name, defs in idx.defs.items():
        for d in defs:
            if d.how != "assign" or not isinstance(d.value, cst.Call):
                continue
            func = d.value.func
            attr = func.attr.value if isinstance(func, cst.Attribute) else ""
            inner = [a.value for a in d.value.args]
            if attr == "nan_to_num" and inner and isinstance(inner[0], cst.Name) and inner[0].value == name:
                out[name] = d.stmt
            elif attr == "where" and len(inner) == 3 and isinstance(inner[0], cst.Call):
                test = inner[0]
                if (
                    isinstance(test.func, cst.Attribute)
                    and test.func.attr.value == "isnan"
                    and test.args
                    and isinstance(test.args[0].value, cst.Name)
                    and test.args[0].value.value == name
                ):
                    out[name] = d.stmt
    return out


def _root_name(expr: cst.BaseExpression) -> Optional[str]:
    """`minicube` of `minicube[vars].to_array().values.astype(t) / 2000`."""
    node: cst.BaseExpression = expr
    for _ in range(20):
        if isinstance(node, cst.BinaryOperation):
            node = node.left
        elif isinstance(node, cst.Call):
            node = node.func
        elif isinstance(node, (cst.Attribute, cst.Subscript)):
            node = node.value
        elif isinstance(node, cst.Name):
            return node.value
        else:
            return None
    return None


def _source_root(idx: D.ScopeIndex, name: str, cleaning: cst.CSTNode) -> Optional[str]:
    """The source of a cleaned array: the root of its first assignment other than the cleaning."""
    first = next((d for d in idx.defs.get(name, []) if d.how == "assign" and d.stmt is not cleaning), None)
    if first is None:
        return None
    if isinstance(first.value, cst.Call) and isinstance(first.value.func, cst.Name):
        return None  # `target = self.compute(minicube)`: a helper's result, not a read
    return _root_name(first.value)


def _mask_like(value: cst.BaseExpression) -> bool:
    """A comparison or an integer/bool cast: a mask or class codes, not measurements."""
    if isinstance(value, cst.Comparison):
        return True
    node = value
    while isinstance(node, cst.BinaryOperation):
        node = node.left
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "astype":
        arg = node.args[0].value if node.args else None
        text = (arg.evaluated_value if isinstance(arg, cst.SimpleString) else dotted(arg)) if arg is not None else None
        return isinstance(text, str) and any(w in text for w in ("bool", "int"))
    return False


def _read_later(scope: Scope, idx: D.ScopeIndex, name: str, order: int) -> bool:
    """The array is read after it is made (into a tensor, a returned dict, a concatenation)."""
    for n in DV.own_nodes(scope.node):
        if isinstance(n, cst.Name) and n.value == name:
            pos = idx.position(n)
            if pos is not None and pos.order > order:
                return True
    return False


def verdict_tl303(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = c.prefer(d, c.ev.inputs, lambda r: r.site)
    tensors = [(r, t) for r in recs for t in r.tensors if t.finite is not None]
    if not tensors:
        return None
    bad = [(r, t) for r, t in tensors if not t.finite]
    if bad:
        r, t = bad[0]
        return confirmed(
            observed=f"the first batch fed to `{r.model}` contains NaN or Inf (input {t.name})",
            expected="finite inputs",
            where=c.where(r.site),
        )
    r = recs[0]
    return refuted(observed=f"the first batch fed to `{r.model}` is finite", where=c.where(r.site))


RULE = Rule(
    code="TL303",
    name="nan-prone-input",
    family="data",
    severity=WARNING,
    summary="Tabular data becomes tensors without handling missing values.",
    check=nan_prone_input,
    verdict=verdict_tl303,
)
