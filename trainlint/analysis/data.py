"""Data-pipeline facts: where a model's inputs come from, and which loaders training loops read.

Two pieces, each computed lazily and cached per module or per project (which definitions
of a name reach a use is `scopes.py`'s question, asked through `scope_index`):

- `Tracer`: walks an expression backwards to its data sources (a CSV read, a `uint8` array,
  a `ToTensor()` pipeline) through names, helper returns, call-site arguments, `DataLoader`
  -> dataset -> `TensorDataset` arguments and `Dataset.__getitem__`. What stops a path is
  mode-specific: arithmetic or a scaler stops a "scale" walk (the data was normalised), a
  `dropna`/`fillna` stops a "nan" walk. Anything the tracer does not understand stops the
  path too, so an unknown step never produces a finding.
- `training_loaders`: `DataLoader(...)` constructions together with the training loops
  (loops that call `backward()`) that iterate them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple, Union

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis import module_facts as M
from trainlint.analysis.facts import Binding, ClassFacts, ModuleFacts, Scope
from trainlint.analysis.loops import LoopAnalyzer, LoopFacts
from trainlint.analysis.names import dotted, is_self
from trainlint.analysis.project import Project, enclosing_class
from trainlint.analysis.scopes import Def, Index, reaching_outwards, scope_index, visible
from trainlint.analysis.scopes import scope_of_node as scope_of_node
from trainlint.analysis.symbols import Resolver, is_none, return_values
from trainlint.analysis.walk import walk

# The rules and analyses reach the scope index through this module (`D.scope_index(s)`).
ScopeIndex = Index

# ------------------------------------------------------------------------------ helpers


def self_attr_bindings(expr: cst.BaseExpression, scope: Scope) -> Optional[List[Binding]]:
    """The assignments of `self.x` in the enclosing class, for an expression `self.x` (else None)."""
    key = dotted(expr)
    cls = enclosing_class(scope)
    if key is None or cls is None or not key.startswith("self.") or key.count(".") != 1:
        return None
    return cls.attrs.get(key, [])


def last_name(qual: Optional[str]) -> str:
    return qual.rsplit(".", 1)[-1] if qual else ""


def _call_name(func: cst.BaseExpression, qual: Optional[str]) -> str:
    """The called name: the last part of `qual`, else the bare attribute or name."""
    if qual:
        return last_name(qual)
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


def has_star_args(call: cst.Call) -> bool:
    return any(a.star for a in call.args)


def star_args_may_set(call: cst.Call, scope: Scope, keys: Sequence[str]) -> bool:
    """Whether the `*args`/`**kwargs` of a call may pass one of `keys`: not when each is a
    `**name` bound only to dict literals (or a choice between them, `{...} if cuda else {}`)
    that do not hold those keys and are never added to (`loader_kwargs = {"num_workers": 4,
    "pin_memory": True}`)."""
    for a in call.args:
        if not a.star:
            continue
        if a.star != "**" or not isinstance(a.value, cst.Name):
            return True
        owner, bindings = visible(scope, a.value)
        if owner is None or not bindings or a.value.value in owner.stores or a.value.value in owner.params:
            return True  # (a parameter: what callers pass is not in sight here)
        if any(b.index is not None or not _dict_without(b.value, keys) for b in bindings):
            return True
        name = a.value.value
        for c in owner.calls:
            f = c.func
            if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) and f.value.value == name:
                return True  # `kwargs.update(...)`, `kwargs.setdefault(...)`
    return False


def _dict_without(expr: cst.BaseExpression, keys: Sequence[str]) -> bool:
    if isinstance(expr, cst.IfExp):
        return _dict_without(expr.body, keys) and _dict_without(expr.orelse, keys)
    if not isinstance(expr, cst.Dict):
        return False
    for el in expr.elements:
        if not isinstance(el, cst.DictElement) or not isinstance(el.key, cst.SimpleString):
            return False  # `**more` or a computed key
        if el.key.evaluated_value in keys:
            return False
    return True


def number(expr: Optional[cst.BaseExpression]) -> Optional[float]:
    """The value of a numeric literal (with unary minus and simple literal arithmetic)."""
    if expr is None:
        return None
    if isinstance(expr, cst.Integer):
        return float(int(expr.value.replace("_", ""), 0))
    if isinstance(expr, cst.Float):
        return float(expr.value.replace("_", ""))
    if isinstance(expr, cst.UnaryOperation):
        inner = number(expr.expression)
        if inner is None:
            return None
        if isinstance(expr.operator, cst.Minus):
            return -inner
        if isinstance(expr.operator, cst.Plus):
            return inner
        return None
    if isinstance(expr, cst.BinaryOperation):
        a, b = number(expr.left), number(expr.right)
        if a is None or b is None:
            return None
        op = expr.operator
        try:
            if isinstance(op, cst.Add):
                return a + b
            if isinstance(op, cst.Subtract):
                return a - b
            if isinstance(op, cst.Multiply):
                return a * b
            if isinstance(op, cst.Divide):
                return a / b
            if isinstance(op, cst.Power) and abs(b) < 400:
                return float(a**b)
        except (ZeroDivisionError, OverflowError):
            return None
        return None
    return None


def is_true(expr: Optional[cst.BaseExpression]) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "True"


def is_false_or_none(expr: Optional[cst.BaseExpression]) -> bool:
    return isinstance(expr, cst.Name) and expr.value in ("False", "None")


def module_variable(project: Project, qual: str, near: ModuleFacts) -> Optional[List[Tuple[cst.BaseExpression, Scope]]]:
    """What a project module's top-level variable is assigned, by qualified name
    (`utils.train_transform`, from `import utils` or `from utils import train_transform`): its
    assigned values, each with the module's top-level scope; None unless every binding is a
    plain assignment."""
    if "." not in qual:
        return None
    mod_name, attr = qual.rsplit(".", 1)
    other = project.find_module(mod_name, near)
    if other is None:
        return None
    defs = scope_index(other.toplevel).defs.get(attr, [])
    if not defs or any(d.how != "assign" or d.path for d in defs):
        return None
    return [(d.value, other.toplevel) for d in defs]


# ------------------------------------------------------------------------------ tracer

# Pending selectors, applied from the front: "item" (an element of an iterable), an int (a
# tuple element), "index" (a row of a tensor or an item of a dataset: same data).
Sel = Union[str, int]

SCALE = "scale"
NAN = "nan"

# Methods that return (a view, copy or subset of) the same values.
_SAME_DATA_METHODS = {
    "to_numpy",
    "numpy",
    "reshape",
    "view",
    "permute",
    "transpose",
    "unsqueeze",
    "squeeze",
    "flatten",
    "contiguous",
    "copy",
    "clone",
    "detach",
    "drop",
    "select_dtypes",
    "sample",
    "reset_index",
    "sort_values",
    "to",
    "cuda",
    "cpu",
    "pin_memory",
    "repeat",
    "expand",
    "head",
    "tail",
    "filter",
    "rename",
    "ravel",
    "swapaxes",
    "moveaxis",
    "requires_grad_",
    "get_values",
    "as_matrix",
    "to_frame",
    "convert",
}
_SAME_DATA_ATTRS = {"values", "T", "iloc", "loc", "array"}
_FLOAT_METHODS = {"float", "double", "half", "bfloat16"}
_INT_METHODS = {"long", "int", "bool", "short", "char"}
_FLOAT_DTYPES = {"float", "float16", "float32", "float64", "double", "half", "bfloat16", "FloatTensor", "DoubleTensor"}
_INT_DTYPES = {
    "long",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "bool",
    "uint8",
    "short",
    "LongTensor",
    "IntTensor",
    "BoolTensor",
}
_TENSOR_CONVERTERS = {
    "torch.tensor",
    "torch.as_tensor",
    "torch.from_numpy",
    "torch.Tensor",
    "torch.asarray",
    "numpy.array",
    "numpy.asarray",
    "numpy.ascontiguousarray",
    "numpy.float32",
    "numpy.float64",
}
_FLOAT_CONVERTERS = {"torch.FloatTensor", "torch.DoubleTensor", "torch.cuda.FloatTensor", "torch.HalfTensor"}
_INT_CONVERTERS = {
    "torch.LongTensor",
    "torch.IntTensor",
    "torch.ByteTensor",
    "torch.BoolTensor",
    "torch.cuda.LongTensor",
}
_CONCAT = {
    "torch.cat",
    "torch.stack",
    "torch.concat",
    "numpy.concatenate",
    "numpy.stack",
    "numpy.hstack",
    "numpy.vstack",
    "numpy.column_stack",
    "numpy.row_stack",
    "numpy.dstack",
    "pandas.concat",
}

TABLE_READERS = {
    "pandas.read_csv",
    "pandas.read_table",
    "pandas.read_excel",
    "pandas.read_parquet",
    "pandas.read_feather",
    "numpy.loadtxt",
    "numpy.genfromtxt",
    "numpy.load",
}
NAN_READERS = {"pandas.read_csv", "pandas.read_table", "pandas.read_excel", "numpy.genfromtxt"}
_IMAGE_READERS = {
    "cv2.imread",
    "imageio.imread",
    "imageio.v2.imread",
    "imageio.v3.imread",
    "skimage.io.imread",
    "torchvision.io.read_image",
    "torchvision.io.decode_image",
    "torchvision.io.decode_jpeg",
    "torchvision.io.decode_png",
}
_PIL_OPEN = {"PIL.Image.open"}
_SCALERS = {
    "StandardScaler",
    "MinMaxScaler",
    "RobustScaler",
    "MaxAbsScaler",
    "Normalizer",
    "QuantileTransformer",
    "PowerTransformer",
}
_IMPUTERS = {"SimpleImputer", "KNNImputer", "IterativeImputer"}
_NORM_LAYERS = {
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "LayerNorm",
    "GroupNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "SyncBatchNorm",
    "RMSNorm",
    "LocalResponseNorm",
}
# Names whose call cleans missing values (NaN) out of data, or checks for them.
NAN_HANDLERS = {
    "dropna",
    "fillna",
    "nan_to_num",
    "nan_to_num_",
    "isna",
    "isnull",
    "notna",
    "notnull",
    "isnan",
    "interpolate",
    "ffill",
    "bfill",
    "SimpleImputer",
    "KNNImputer",
    "IterativeImputer",
    "fill_null",
    "drop_nulls",
    "isfinite",
    "masked_invalid",
    "nanmean",
    "nanmedian",
}


@dataclass(frozen=True)
class Hit:
    """A data source a traced value comes from, with nothing on the path that cleans it."""

    kind: str  # "table" | "uint8" | "range" | "transform" | "nan-table"
    node: cst.CSTNode
    module: ModuleFacts
    detail: str
    # The conversion to a floating tensor closest to the source, if the path has one.
    floated: Optional[Tuple[ModuleFacts, cst.CSTNode]] = None
    # The step where the data became a tensor, if seen.
    tensorized: Optional[Tuple[ModuleFacts, cst.CSTNode]] = None


@dataclass(frozen=True)
class CallFrame:
    """Walking into a callee from a call site: its parameters are that call's arguments."""

    callee: Scope
    call: cst.Call
    caller: Scope
    bound_method: bool


@dataclass
class _State:
    pending: Tuple[Sel, ...] = ()
    frames: Tuple[CallFrame, ...] = ()
    floated: Optional[Tuple[ModuleFacts, cst.CSTNode]] = None
    tensorized: Optional[Tuple[ModuleFacts, cst.CSTNode]] = None
    inst: Optional[Tuple[ClassFacts, Scope, cst.Call]] = None  # the instance `self` refers to


_MAX_STEPS = 400
_MAX_DEPTH = 30


class DataTracer:
    """Backward walk from an expression to its data sources."""

    def __init__(self, project: Project, resolver: Resolver, mode: str) -> None:
        self.project = project
        self.resolver = resolver
        self.mode = mode

    def sources(self, expr: cst.BaseExpression, scope: Scope, frames: Sequence[CallFrame] = ()) -> List[Hit]:
        self._hits: List[Hit] = []
        self._seen: Set[Tuple[int, int, Tuple[Sel, ...]]] = set()
        self._steps = 0
        self._origin = scope.module
        self._walk(expr, scope, _State(frames=tuple(frames)), 0)
        return self._hits

    def _sites(self, sites: List[Tuple[Scope, cst.Call]]) -> List[Tuple[Scope, cst.Call]]:
        """Call sites to read a parameter at, when the walk did not come through one: those in
        the module the walk started from, if it has any (a helper shared by several scripts
        gets this script's arguments, not another script's), else up to eight of them all."""
        own = [site for site in sites if site[0].module is self._origin]
        return (own or sites)[:8]

    # -- walking ---------------------------------------------------------------------------

    def _walk(self, expr: cst.BaseExpression, scope: Scope, st: _State, depth: int) -> None:
        self._steps += 1
        if depth > _MAX_DEPTH or self._steps > _MAX_STEPS:
            return
        key = (id(expr), id(scope), st.pending)
        if key in self._seen:
            return
        self._seen.add(key)
        if isinstance(expr, cst.Name):
            self._name(expr, scope, st, depth)
        elif isinstance(expr, cst.Attribute):
            self._attribute(expr, scope, st, depth)
        elif isinstance(expr, cst.Subscript):
            self._subscript(expr, scope, st, depth)
        elif isinstance(expr, cst.Call):
            self._call(expr, scope, st, depth)
        elif isinstance(expr, (cst.Tuple, cst.List)):
            self._sequence(expr.elements, scope, st, depth)
        elif isinstance(expr, cst.BinaryOperation):
            self._binary(expr, scope, st, depth)
        elif isinstance(expr, cst.UnaryOperation):
            if self.mode == NAN and not isinstance(expr.operator, cst.Not):
                self._walk(expr.expression, scope, _with(st, pending=()), depth + 1)
        elif isinstance(expr, cst.IfExp):
            self._walk(expr.body, scope, st, depth + 1)
            self._walk(expr.orelse, scope, st, depth + 1)
        # literals, comprehensions, lambdas...: not followed

    def _sequence(self, elements: Sequence[cst.BaseElement], scope: Scope, st: _State, depth: int) -> None:
        if st.pending and isinstance(st.pending[0], int):
            i = st.pending[0]
            if i < len(elements) and not isinstance(elements[i], cst.StarredElement):
                self._walk(elements[i].value, scope, _with(st, pending=st.pending[1:]), depth + 1)
            return
        for el in elements:
            if not isinstance(el, cst.StarredElement):
                self._walk(el.value, scope, _with(st, pending=()), depth + 1)

    def _binary(self, expr: cst.BinaryOperation, scope: Scope, st: _State, depth: int) -> None:
        op = expr.operator
        if self.mode == SCALE:
            if isinstance(op, (cst.Add, cst.BitOr, cst.BitAnd)):
                self._walk(expr.left, scope, _with(st, pending=()), depth + 1)
                self._walk(expr.right, scope, _with(st, pending=()), depth + 1)
            return  # division, subtraction, multiplication...: the values were rescaled
        self._walk(expr.left, scope, _with(st, pending=()), depth + 1)
        self._walk(expr.right, scope, _with(st, pending=()), depth + 1)

    def _name(self, expr: cst.Name, scope: Scope, st: _State, depth: int) -> None:
        name = expr.value
        s: Optional[Scope] = scope
        use: cst.CSTNode = expr
        while s is not None:
            idx = scope_index(s)
            defs, open_before = idx.reaching(name, use)
            if self._rescaled_in_place(name, s, defs):
                return
            for d in defs:
                self._def(d, s, st, depth)
            if not open_before:
                return
            if name in s.params:
                self._param(name, s, st, depth)
                return
            if defs:
                return
            use = s.node
            s = s.parent

    def _rescaled_in_place(self, name: str, scope: Scope, defs: List[Def]) -> bool:
        """`x /= 255`, `x.div_(255)`, `df.fillna(0, inplace=True)`: the name's values change in place."""
        for d in defs:
            if d.how == "aug":
                if self.mode == SCALE and isinstance(
                    d.op, (cst.DivideAssign, cst.SubtractAssign, cst.MultiplyAssign, cst.FloorDivideAssign)
                ):
                    return True
        for call in scope.calls:
            func = call.func
            if not isinstance(func, cst.Attribute):
                continue
            root = _root_name(func.value)
            if root != name:
                continue
            m = func.attr.value
            if self.mode == SCALE and m in ("div_", "sub_", "mul_", "normal_", "clamp_", "true_divide_"):
                return True
            if self.mode == NAN and m in NAN_HANDLERS:
                return True
        return False

    def _def(self, d: Def, scope: Scope, st: _State, depth: int) -> None:
        if d.how == "with":
            return
        if d.how == "aug":
            if self.mode == NAN:
                self._walk(d.value, scope, _with(st, pending=()), depth + 1)
            elif isinstance(d.op, cst.AddAssign):
                self._walk(d.value, scope, _with(st, pending=()), depth + 1)
            return
        pending = tuple(d.path) + st.pending
        if d.how == "for":
            pending = ("item",) + pending
        if isinstance(d.stmt, cst.NamedExpr):
            pending = st.pending
        self._walk(d.value, scope, _with(st, pending=pending), depth + 1)

    def _param(self, name: str, fn: Scope, st: _State, depth: int) -> None:
        is_method = fn.cls is not None and bool(fn.params) and fn.params[0] in ("self", "cls")
        if is_method and fn.params.index(name) == 0:
            return
        for fr in reversed(st.frames):
            if fr.callee is fn:
                arg = C.bind_default(fr.call, fn, name, fr.bound_method)
                if arg is not None:
                    inner = _with(st, frames=st.frames[: st.frames.index(fr)])
                    where = fr.caller if arg is not fn.param_nodes[fn.params.index(name)].default else fn
                    self._walk(arg, where, inner, depth + 1)
                return
        if fn.cls is not None and fn.simple_name == "__init__":
            for caller, call in self._sites(self.project.instantiation_sites(fn.cls)):
                arg = C.bind_default(call, fn, name, True)
                if arg is not None:
                    where = caller if arg is not fn.param_nodes[fn.params.index(name)].default else fn
                    self._walk(arg, where, st, depth + 1)
            return
        for caller, call in self._sites(self.project.callers(fn)):
            arg = C.bind_default(call, fn, name, isinstance(call.func, cst.Attribute))
            if arg is not None:
                where = caller if arg is not fn.param_nodes[fn.params.index(name)].default else fn
                self._walk(arg, where, st, depth + 1)

    def _attribute(self, expr: cst.Attribute, scope: Scope, st: _State, depth: int) -> None:
        d = dotted(expr)
        attr = expr.attr.value
        if d is not None and d.startswith("self.") and d.count(".") == 1:
            cls = st.inst[0] if st.inst is not None else enclosing_class(scope)
            if cls is None:
                return
            for c in [cls, *self.project.base_classes(cls)]:
                binds = c.attrs.get(d)
                if not binds:
                    continue
                for method in {id(b.scope): b.scope for b in binds}.values():
                    if self._rescaled_in_place(d, method, []):
                        return
                for b in binds:
                    if b.how not in ("assign",):
                        continue
                    frames = st.frames
                    if st.inst is not None and b.scope.simple_name == "__init__":
                        frames = frames + (CallFrame(b.scope, st.inst[2], st.inst[1], True),)
                    pending = ((b.index,) if b.index is not None else ()) + st.pending
                    self._walk(b.value, b.scope, _with(st, frames=frames, pending=pending), depth + 1)
                return
            return
        if attr in _SAME_DATA_ATTRS:
            self._walk(expr.value, scope, _with(st, pending=()), depth + 1)
            return
        if attr == "data" and self.mode == SCALE:
            # `torchvision.datasets.MNIST(...).data` is the raw uint8 image tensor.
            qual = self._constructor_qual(expr.value, scope)
            if qual and qual.startswith("torchvision.datasets."):
                self._hit("uint8", expr, scope, st, f"{last_name(qual)}(...).data")

    def _subscript(self, expr: cst.Subscript, scope: Scope, st: _State, depth: int) -> None:
        sel: Sel = "index"
        if len(expr.slice) == 1:
            el = expr.slice[0].slice
            if isinstance(el, cst.Index) and isinstance(el.value, cst.Integer):
                sel = int(el.value.value)
        self._walk(expr.value, scope, _with(st, pending=(sel,) + st.pending), depth + 1)

    # -- calls -------------------------------------------------------------------------------

    def _constructor_qual(self, expr: cst.BaseExpression, scope: Scope) -> Optional[str]:
        """The qualified constructor an expression was built from (through simple names)."""
        seen = 0
        while seen < 6:
            seen += 1
            if isinstance(expr, cst.Call):
                return scope.module.qualify(expr.func)
            if isinstance(expr, cst.Name):
                defs, _ = scope_index(scope).reaching(expr.value, expr)
                if len(defs) != 1 or defs[0].how != "assign" or defs[0].path:
                    if not defs and scope.parent is not None:
                        scope = scope.parent
                        continue
                    return None
                expr = defs[0].value
                continue
            return None
        return None

    def _call(self, call: cst.Call, scope: Scope, st: _State, depth: int) -> None:
        # Concerns in order; the first that claims the call ends the walk there.
        func = call.func
        qual = scope.module.qualify(func)
        nxt = depth + 1
        if self._source_call(call, scope, st, qual):
            return
        if self._tensor_call(call, scope, st, qual, nxt):
            return
        if self._container_call(call, scope, st, qual, nxt):
            return
        if self._passthrough_call(call, scope, st, qual, nxt):
            return
        if isinstance(func, cst.Attribute) and self._method_call(call, func, scope, st, nxt):
            return
        self._project_call(call, scope, st, nxt)

    def _source_call(self, call: cst.Call, scope: Scope, st: _State, qual: Optional[str]) -> bool:
        """Table readers and raw-pixel readers: where the walk finds its data."""
        if qual in TABLE_READERS:
            if self.mode == SCALE:
                self._hit("table", call, scope, st, qual)
            elif qual in NAN_READERS and not _reader_handles_nan(call):
                self._hit("nan-table", call, scope, st, qual)
            return True
        return self.mode == SCALE and self._raw_pixels(call, scope, qual, _call_name(call.func, qual), st)

    def _tensor_call(self, call: cst.Call, scope: Scope, st: _State, qual: Optional[str], nxt: int) -> bool:
        """Tensor construction and dtype conversion (`torch.tensor`, `np.float32`, `torch.cat`...)."""
        mod = scope.module
        if qual in _TENSOR_CONVERTERS or qual in _FLOAT_CONVERTERS or qual in _INT_CONVERTERS:
            dtype = _dtype_kind(C.arg(call, None, "dtype", skip_star=True), mod)
            if qual in _INT_CONVERTERS or dtype == "int":
                return True
            if not call.args:
                return True
            st2 = _with(st, pending=())
            if qual.startswith("torch"):
                st2 = _with(st2, tensorized=(mod, call))
            if qual in _FLOAT_CONVERTERS or dtype == "float":
                st2 = _with(st2, floated=(mod, call))
            self._walk(call.args[0].value, scope, st2, nxt)
            return True
        if qual in _CONCAT and call.args:
            first = call.args[0].value
            if isinstance(first, (cst.List, cst.Tuple)):
                for el in first.elements:
                    if not isinstance(el, cst.StarredElement):
                        self._walk(el.value, scope, _with(st, pending=()), nxt)
            else:
                self._walk(first, scope, _with(st, pending=("index",)), nxt)
            return True
        return False

    def _container_call(self, call: cst.Call, scope: Scope, st: _State, qual: Optional[str], nxt: int) -> bool:
        """Data containers: loaders, tensor datasets, subsets and splits of the data."""
        pend = st.pending
        if qual in K.DATALOADERS:
            ds = C.arg(call, 0, "dataset", skip_star=True)
            if ds is not None:
                self._walk(ds, scope, st, nxt)
            return True
        if qual in ("torch.utils.data.TensorDataset", "torch.utils.data.dataset.TensorDataset"):
            rest = pend[1:] if pend[:1] in (("item",), ("index",)) else pend
            if rest and isinstance(rest[0], int):
                if rest[0] < len(call.args) and not call.args[rest[0]].star:
                    self._walk(call.args[rest[0]].value, scope, _with(st, pending=()), nxt)
                return True
            for a in call.args:
                if not a.star:
                    self._walk(a.value, scope, _with(st, pending=()), nxt)
            return True
        if qual in ("torch.utils.data.Subset", "torch.utils.data.random_split", "torch.utils.data.dataset.Subset"):
            ds = C.arg(call, 0, "dataset", skip_star=True)
            if ds is not None:
                keep = pend[1:] if qual.endswith("random_split") and pend and isinstance(pend[0], int) else pend
                self._walk(ds, scope, _with(st, pending=keep), nxt)
            return True
        if qual in ("sklearn.model_selection.train_test_split",):
            if pend and isinstance(pend[0], int):
                k = pend[0] // 2
                if k < len(call.args) and not call.args[k].star and call.args[k].keyword is None:
                    self._walk(call.args[k].value, scope, _with(st, pending=pend[1:]), nxt)
            return True
        return False

    def _passthrough_call(self, call: cst.Call, scope: Scope, st: _State, qual: Optional[str], nxt: int) -> bool:
        """Wrappers around data: builtins (`enumerate`, `zip`...), `tqdm`, torchvision datasets."""
        func = call.func
        if isinstance(func, cst.Name) and func.value in (
            "enumerate",
            "zip",
            "iter",
            "next",
            "list",
            "tuple",
            "reversed",
            "sorted",
        ):
            self._builtin(func.value, call, scope, st, nxt)
            return True
        if qual is not None and qual.startswith("tqdm") and call.args:
            self._walk(call.args[0].value, scope, st, nxt)
            return True
        if qual is not None and qual.startswith("torchvision.datasets.") and self.mode == SCALE:
            tf = C.arg(call, None, "transform", skip_star=True)
            if tf is not None:
                self._transform_object(tf, scope, st, nxt, None)
            return True
        return False

    def _method_call(self, call: cst.Call, func: cst.Attribute, scope: Scope, st: _State, nxt: int) -> bool:
        """`x.method(...)`: dtype conversions, cleaning, reshaping, indexing..."""
        m = func.attr.value
        recv = func.value
        pend = st.pending
        if self._dtype_method(call, func, scope, st, nxt):
            return True
        if m in ("dropna", "fillna", "interpolate", "ffill", "bfill", "nan_to_num"):
            if self.mode == SCALE:
                self._walk(recv, scope, _with(st, pending=()), nxt)
            return True  # missing values handled: ends a nan walk
        if m in _SAME_DATA_METHODS:
            self._walk(recv, scope, _with(st, pending=()), nxt)
            return True
        if m in ("fit_transform", "transform") and call.args and not _is_self_attr(func):
            kind = self._estimator_kind(recv, scope)
            if kind == "imputer" and self.mode == NAN:
                return True
            if kind == "scaler" and self.mode == NAN:
                self._walk(call.args[0].value, scope, _with(st, pending=()), nxt)
            return True  # scaling (or an unknown transform) ends a scale walk
        if self.mode == NAN and m in ("replace", "where", "mask", "clip") and recv is not None:
            return True
        if m == "__getitem__" and call.args:
            self._walk(recv, scope, _with(st, pending=("index",) + pend), nxt)
            return True
        if m == "prepare" and len(call.args) >= 1:
            target = call.args[0].value
            if pend and isinstance(pend[0], int) and len(call.args) > 1:
                if pend[0] < len(call.args):
                    self._walk(call.args[pend[0]].value, scope, _with(st, pending=pend[1:]), nxt)
                return True
            self._walk(target, scope, st, nxt)
            return True
        return False

    def _dtype_method(self, call: cst.Call, func: cst.Attribute, scope: Scope, st: _State, nxt: int) -> bool:
        """`.float()`, `.long()`, `.astype(...)`, `.type(...)`, `.to(...)`."""
        mod = scope.module
        m = func.attr.value
        recv = func.value
        if m in _FLOAT_METHODS:
            self._walk(recv, scope, _with(st, pending=(), floated=(mod, call)), nxt)
            return True
        if m in _INT_METHODS:
            return True
        if m in ("astype", "type", "to"):
            dtype = _dtype_kind(call.args[0].value if call.args else C.arg(call, None, "dtype", skip_star=True), mod)
            if m == "to":
                dtype = _dtype_kind(C.arg(call, None, "dtype", skip_star=True), mod) or _dtype_kind(
                    call.args[0].value if call.args else None, mod
                )
            if dtype == "int":
                return True
            if dtype == "uint8" and self.mode == SCALE:
                self._hit("uint8", call, scope, st, "uint8")
                return True
            st2 = _with(st, pending=())
            if dtype == "float":
                st2 = _with(st2, floated=(mod, call))
            self._walk(recv, scope, st2, nxt)
            return True
        return False

    def _project_call(self, call: cst.Call, scope: Scope, st: _State, nxt: int) -> None:
        """Project functions and classes, or an object being called (a transform pipeline...)."""
        func = call.func
        pend = st.pending
        callee = self.project.resolve_callee(func, scope)
        if isinstance(callee, Scope):
            if any(fr.callee is callee for fr in st.frames):
                return
            frame = CallFrame(callee, call, scope, isinstance(func, cst.Attribute))
            for rv in return_values(callee):
                self._walk(rv, callee, _with(st, frames=st.frames + (frame,)), nxt)
            return
        if isinstance(callee, ClassFacts):
            if pend and pend[0] in ("item", "index"):
                self._dataset_item(callee, call, scope, st, nxt)
            return
        # calling an object: a transform pipeline, a project module...
        if isinstance(func, (cst.Name, cst.Attribute)) and self.mode == SCALE and call.args:
            self._transform_object(func, scope, st, nxt, call.args[0].value)

    def _builtin(self, fname: str, call: cst.Call, scope: Scope, st: _State, nxt: int) -> None:
        pend = st.pending
        if not call.args or call.args[0].star:
            return
        if fname == "enumerate":
            if pend[:1] == ("item",) and len(pend) >= 2 and pend[1] == 1:
                self._walk(call.args[0].value, scope, _with(st, pending=("item",) + pend[2:]), nxt)
            return
        if fname == "zip":
            if pend[:1] == ("item",) and len(pend) >= 2 and isinstance(pend[1], int):
                i = pend[1]
                if i < len(call.args) and not call.args[i].star:
                    self._walk(call.args[i].value, scope, _with(st, pending=("item",) + pend[2:]), nxt)
            return
        if fname == "next":
            self._walk(call.args[0].value, scope, _with(st, pending=("item",) + pend), nxt)
            return
        # iter(x), list(x), sorted(x)...: the same items as x
        self._walk(call.args[0].value, scope, st, nxt)

    def _dataset_item(self, cls: ClassFacts, call: cst.Call, scope: Scope, st: _State, nxt: int) -> None:
        """`MyDataset(...)` iterated or indexed: what its `__getitem__` returns."""
        getitem = self.project.method_of(cls, "__getitem__")
        if getitem is None:
            return
        init = self.project.method_of(cls, "__init__")
        rest = st.pending[1:]
        st2 = _with(st, pending=rest, inst=(cls, scope, call))
        if init is not None:
            st2 = _with(st2, frames=st.frames + (CallFrame(init, call, scope, True),))
        for rv in return_values(getitem):
            self._walk(rv, getitem, st2, nxt)

    def _estimator_kind(self, recv: cst.BaseExpression, scope: Scope) -> Optional[str]:
        qual = self._constructor_qual(recv, scope)
        name = last_name(qual)
        if name in _IMPUTERS:
            return "imputer"
        if name in _SCALERS:
            return "scaler"
        return None

    def _transform_object(
        self, obj: cst.BaseExpression, scope: Scope, st: _State, nxt: int, arg: Optional[cst.BaseExpression]
    ) -> None:
        """A torchvision-style pipeline applied to data (or given to a dataset as `transform=`)."""
        pipeline = self._pipeline(obj, scope, st.inst)
        if pipeline is None:
            return
        _, elements, built = pipeline  # (`built`: where the pipeline is written, maybe a caller)
        names = [last_name(built.module.qualify(e.func)) if isinstance(e, cst.Call) else "?" for e in elements]
        if any(n in ("Normalize", "Lambda", "?") or not n for n in names):
            return  # normalised, or a step we cannot see into
        to_tensor = next((e for e, n in zip(elements, names) if n in ("ToTensor",)), None)
        if to_tensor is not None:
            self._hit("transform", to_tensor, built, st, "ToTensor")
            return
        if arg is not None:
            self._walk(arg, scope, _with(st, pending=()), nxt)

    def _pipeline(
        self, obj: cst.BaseExpression, scope: Scope, inst: Optional[Tuple[ClassFacts, Scope, cst.Call]] = None
    ) -> Optional[Tuple[cst.Call, List[cst.BaseExpression], Scope]]:
        """The `Compose([...])` (or lone `ToTensor()`) `obj` holds, its steps, and the scope
        they are written in (a caller's, for `self.transform = transform`: the construction
        being read, `inst`, when the walk came through one; else every construction must pass
        such a pipeline, and the one in the walk's own module is named if there is one)."""
        expr: cst.BaseExpression = obj
        sc = scope
        for _ in range(6):
            if isinstance(expr, cst.Call):
                qual = sc.module.qualify(expr.func)
                if qual and qual.startswith("torchvision.transforms") and last_name(qual) == "Compose" and expr.args:
                    first = expr.args[0].value
                    if isinstance(first, (cst.List, cst.Tuple)):
                        return expr, [el.value for el in first.elements if not isinstance(el, cst.StarredElement)], sc
                if qual and qual.startswith("torchvision.transforms") and last_name(qual) == "ToTensor":
                    return expr, [expr], sc  # `transform=transforms.ToTensor()`: a one-step pipeline
                return None
            imported = self._imported_value(expr, sc)
            if imported is not None:
                expr, sc = imported
                continue
            if isinstance(expr, cst.Name):
                defs, _ = scope_index(sc).reaching(expr.value, expr)
                if not defs and sc.parent is not None:
                    sc = sc.parent
                    continue
                if len(defs) != 1 or defs[0].how != "assign" or defs[0].path:
                    return None
                expr = defs[0].value
                continue
            if isinstance(expr, cst.Attribute):
                binds = self_attr_bindings(expr, sc)
                if binds is None or len(binds) != 1:
                    return None
                b = binds[0]
                expr, sc = b.value, b.scope
                if b.index is not None:
                    if not isinstance(expr, (cst.Tuple, cst.List)) or b.index >= len(expr.elements):
                        return None
                    expr = expr.elements[b.index].value
                if isinstance(expr, cst.Name) and expr.value in sc.params:
                    return self._pipeline_passed(expr.value, sc, inst)  # `self.transform = transform`
                continue
            return None
        return None

    def _pipeline_passed(
        self, param: str, init: Scope, inst: Optional[Tuple[ClassFacts, Scope, cst.Call]]
    ) -> Optional[Tuple[cst.Call, List[cst.BaseExpression], Scope]]:
        """The pipeline constructions pass for `__init__`'s `param`: the construction being
        read, or else every one must pass a pipeline (the walk's own module's is named)."""
        owner = enclosing_class(init)
        if owner is None:
            return None
        sites = self.project.instantiation_sites(owner)[:8]
        if inst is not None and inst[0] is owner:
            sites = [(inst[1], inst[2])]
        found = None
        for caller, call in sites:
            arg = C.bind_default(call, init, param, True)
            got = self._pipeline(arg, caller) if arg is not None else None
            if got is None:
                return None
            if found is None or caller.module is self._origin:
                found = got
        return found

    def _imported_value(self, expr: cst.BaseExpression, scope: Scope) -> Optional[Tuple[cst.BaseExpression, Scope]]:
        """`train_transform` imported from, or `utils.train_transform` read off, a project
        module that assigns it once at its top level: that value, in that module."""
        if not isinstance(expr, (cst.Name, cst.Attribute)) or is_self(
            expr if isinstance(expr, cst.Name) else expr.value
        ):
            return None
        if isinstance(expr, cst.Name) and expr.value not in scope.module.imports.alias:
            return None
        qual = scope.module.qualify(expr)
        found = module_variable(self.project, qual, scope.module) if qual else None
        return found[0] if found is not None and len(found) == 1 else None

    def _raw_pixels(self, call: cst.Call, scope: Scope, qual: Optional[str], name: str, st: _State) -> bool:
        """Sources of 0-255 integer pixel data."""
        mod = scope.module
        if qual in _IMAGE_READERS:
            self._hit("uint8", call, scope, st, qual or name)
            return True
        if qual in ("numpy.array", "numpy.asarray") and call.args and _is_pil_image(call.args[0].value, scope):
            self._hit("uint8", call, scope, st, "PIL image")
            return True
        if qual in ("torchvision.transforms.functional.pil_to_tensor",):
            self._hit("uint8", call, scope, st, qual)
            return True
        dtype = _dtype_kind(C.arg(call, None, "dtype", skip_star=True), mod)
        if dtype == "uint8" and qual is not None and (qual.startswith("numpy.") or qual.startswith("torch.")):
            self._hit("uint8", call, scope, st, "uint8")
            return True
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "byte" and not call.args:
            self._hit("uint8", call, scope, st, "uint8")
            return True
        high = _randint_high(call, qual)
        if high is not None and high >= 128:
            self._hit("range", call, scope, st, f"in [0, {int(high)})")
            return True
        return False

    def _hit(self, kind: str, node: cst.CSTNode, scope: Scope, st: _State, detail: str) -> None:
        self._hits.append(Hit(kind, node, scope.module, detail, st.floated, st.tensorized))


def _with(st: _State, **changes: object) -> _State:
    out = _State(st.pending, st.frames, st.floated, st.tensorized, st.inst)
    for k, v in changes.items():
        setattr(out, k, v)
    return out


def _root_name(expr: cst.BaseExpression) -> Optional[str]:
    node = expr
    while True:
        if isinstance(node, cst.Attribute):
            d = dotted(node)
            if d is not None and d.startswith("self.") and d.count(".") == 1:
                return d
            node = node.value
        elif isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            node = node.func.value
        else:
            break
    return node.value if isinstance(node, cst.Name) else None


def _is_self_attr(expr: cst.BaseExpression) -> bool:
    d = dotted(expr)
    return d is not None and d.startswith("self.") and d.count(".") == 1


def root_name(expr: cst.BaseExpression) -> Optional[str]:
    return _root_name(expr)


INT_METHODS = _INT_METHODS
INT_CONVERTERS = _INT_CONVERTERS


def dtype_kind(expr: Optional[cst.BaseExpression], module: ModuleFacts) -> Optional[str]:
    """ "float", "int", "uint8" or None for a dtype expression (`torch.long`, `np.float32`, "int64")."""
    return _dtype_kind(expr, module)


def _dtype_kind(expr: Optional[cst.BaseExpression], module: ModuleFacts) -> Optional[str]:
    if expr is None:
        return None
    text: Optional[str] = None
    if isinstance(expr, cst.SimpleString):
        v = expr.evaluated_value
        text = v if isinstance(v, str) else None
    elif isinstance(expr, (cst.Name, cst.Attribute)):
        d = dotted(expr)
        text = d.rsplit(".", 1)[-1] if d else None
        if isinstance(expr, cst.Name) and expr.value in ("float", "int", "bool"):
            text = expr.value
    if text is None:
        return None
    if text == "uint8":
        return "uint8"
    if text in _FLOAT_DTYPES:
        return "float"
    if text in _INT_DTYPES:
        return "int"
    return None


def _randint_high(call: cst.Call, qual: Optional[str]) -> Optional[float]:
    """The upper bound of an integer-valued random draw (`torch.randint(0, 256, ...)`)."""
    is_torch = qual in ("torch.randint",)
    is_np = qual in ("numpy.random.randint",) or (
        isinstance(call.func, cst.Attribute) and call.func.attr.value == "integers"
    )
    if not (is_torch or is_np):
        return None
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    if is_torch:
        high = C.arg(call, None, "high", skip_star=True)
        if high is None and positional:
            # randint(high, size) or randint(low, high, size)
            second = positional[1] if len(positional) > 1 else None
            if second is not None and number(second) is not None:
                high = second
            else:
                high = positional[0]
        return number(high)
    high = C.arg(call, None, "high", skip_star=True)
    if high is None and len(positional) >= 2 and number(positional[1]) is not None:
        high = positional[1]
    elif high is None and positional:
        high = positional[0]
    return number(high)


def _is_pil_image(expr: cst.BaseExpression, scope: Scope) -> bool:
    for _ in range(6):
        if isinstance(expr, cst.Call):
            qual = scope.module.qualify(expr.func)
            if qual in _PIL_OPEN:
                return True
            if isinstance(expr.func, cst.Attribute) and expr.func.attr.value in ("convert", "resize", "crop", "rotate"):
                expr = expr.func.value
                continue
            return False
        if isinstance(expr, cst.Name):
            defs, _ = scope_index(scope).reaching(expr.value, expr)
            if len(defs) != 1 or defs[0].how not in ("assign", "with") or defs[0].path:
                return False
            expr = defs[0].value
            continue
        return False
    return False


def _reader_handles_nan(call: cst.Call) -> bool:
    """Reader options that already deal with missing values."""
    for a in call.args:
        if a.keyword is None:
            continue
        k = a.keyword.value
        if k in ("filling_values", "usemask"):
            return True
        if k in ("na_filter", "keep_default_na") and is_false_or_none(a.value):
            return True
        if k == "dtype" and isinstance(a.value, (cst.Name, cst.SimpleString)) and not _numeric_dtype(a.value):
            return True
        if _whitespace_separated(k, a.value):
            return True  # runs of spaces are one separator: a field cannot be left empty
    return False


def _whitespace_separated(keyword: str, value: cst.BaseExpression) -> bool:
    """`sep=r"\\s+"` (or `" +"`, `delimiter=...`) and `delim_whitespace=True`: an annotation
    list such as CelebA's, whose fields are split on runs of whitespace."""
    if keyword == "delim_whitespace":
        return isinstance(value, cst.Name) and value.value == "True"
    if keyword not in ("sep", "delimiter") or not isinstance(value, cst.SimpleString):
        return False
    return value.evaluated_value in ("\\s+", " +", "\\s*", "[ ]+", "\\t+")


def _numeric_dtype(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Name):
        return expr.value in ("float", "int")
    if isinstance(expr, cst.SimpleString):
        v = expr.evaluated_value
        return isinstance(v, str) and v.startswith(("float", "int", "f", "i"))
    return True


def module_handles_nan(module: ModuleFacts) -> bool:
    """The module deals with missing values somewhere (cleaning, imputing or checking)."""
    return module.memo(module_handles_nan, lambda: _handles_nan(module))


def _handles_nan(module: ModuleFacts) -> bool:
    for s in module.scopes:
        for call in s.calls:
            d = dotted(call.func)
            last = d.rsplit(".", 1)[-1] if d else (call.func.attr.value if isinstance(call.func, cst.Attribute) else "")
            if last in ("isnan", "isfinite"):
                # A check on the loss or gradients is about training, not about the data.
                arg = (
                    call.args[0].value
                    if call.args
                    else (call.func.value if isinstance(call.func, cst.Attribute) else None)
                )
                text = module.tree.code_for_node(arg).lower() if arg is not None else ""
                if "loss" in text or "grad" in text:
                    continue
            if last in NAN_HANDLERS:
                return True
    return False


def module_normalizes_images(module: ModuleFacts) -> bool:
    """The module builds a torchvision `Normalize` somewhere (another branch, another split)."""
    return module.memo(
        module_normalizes_images,
        lambda: any(
            last_name(q) == "Normalize" and q.startswith("torchvision.transforms")
            for s in module.scopes
            for c in s.calls
            if (q := module.qualify(c.func)) is not None
        ),
    )


# ------------------------------------------------------------------------------ model input


def first_layer_normalizes(project: Project, resolver: Resolver, call: cst.Call, scope: Scope) -> bool:
    """The model called by `call` normalises its input first (a norm layer or arithmetic)."""
    func = call.func
    if not isinstance(func, (cst.Name, cst.Attribute)):
        return False
    v = resolver.value_of(func, scope)
    if v is None:
        return False
    if v.cls is not None:
        return _class_normalizes_input(project, v.cls, 0)
    if isinstance(v.origin, cst.Call) and v.module is not None:
        return _sequential_normalizes(v.origin, v.module)
    return False


def _sequential_normalizes(call: cst.Call, module: ModuleFacts) -> bool:
    qual = module.qualify(call.func)
    if qual != "torch.nn.Sequential" or not call.args:
        return False
    first = call.args[0].value
    if isinstance(first, cst.Call):
        return last_name(module.qualify(first.func)) in _NORM_LAYERS
    return False


def _class_normalizes_input(project: Project, cls: ClassFacts, depth: int) -> bool:
    forward = project.method_of(cls, "forward")
    if forward is None or len(forward.params) < 2 or depth > 2:
        return False
    x = forward.params[1]
    for stmt in forward.body:
        if not _mentions_name(stmt, x):
            continue
        if not isinstance(stmt, cst.SimpleStatementLine):
            return False
        for small in stmt.body:
            value = getattr(small, "value", None)
            if isinstance(value, cst.BaseExpression) and _mentions_name(value, x):
                verdict = _first_op_on(project, cls, value, x, depth)
                if verdict != "neutral":
                    return verdict == "norm"
    return False


# Reshaping and dtype moves leave the values as they are.
_NEUTRAL_OPS = {
    "flatten",
    "view",
    "reshape",
    "float",
    "double",
    "half",
    "to",
    "unsqueeze",
    "squeeze",
    "permute",
    "contiguous",
    "type",
    "transpose",
}


def _first_op_on(project: Project, cls: ClassFacts, value: cst.BaseExpression, x: str, depth: int) -> str:
    """What the model does to its input first: "norm", "other", or "neutral" (only reshapes)."""
    chain: List[cst.BaseExpression] = []
    node: Optional[cst.BaseExpression] = value
    while node is not None and not (isinstance(node, cst.Name) and node.value == x):
        chain.append(node)
        nxt: Optional[cst.BaseExpression] = None
        if isinstance(node, cst.BinaryOperation):
            nxt = node.left if _mentions_name(node.left, x) else node.right
        elif isinstance(node, cst.Call):
            nxt = next((a.value for a in node.args if _mentions_name(a.value, x)), None)
            if nxt is None and isinstance(node.func, cst.Attribute) and _mentions_name(node.func.value, x):
                nxt = node.func.value
        elif isinstance(node, (cst.Subscript, cst.Attribute)):
            nxt = node.value
        node = nxt
    if node is None:
        return "other"
    for op in reversed(chain):  # innermost first
        if isinstance(op, cst.BinaryOperation):
            return "norm" if isinstance(op.operator, (cst.Divide, cst.Subtract, cst.Multiply)) else "other"
        if isinstance(op, cst.Call):
            func = op.func
            if (
                isinstance(func, cst.Attribute)
                and _mentions_name(func.value, x)
                and not any(_mentions_name(a.value, x) for a in op.args)
            ):
                m = func.attr.value
                if m in _NEUTRAL_OPS:
                    continue
                return "norm" if m in ("div", "sub", "div_", "sub_", "mul") else "other"
            return "norm" if _normalizing_callee(project, cls, op, depth) else "other"
        if isinstance(op, (cst.Subscript, cst.Attribute)):
            continue
        return "other"
    return "neutral"


def _normalizing_callee(project: Project, cls: ClassFacts, call: cst.Call, depth: int) -> bool:
    module = cls.module
    qual = module.qualify(call.func)
    last = last_name(qual) if qual else (call.func.attr.value if isinstance(call.func, cst.Attribute) else "")
    if last in ("layer_norm", "batch_norm", "group_norm", "instance_norm", "normalize") or "norm" in last.lower():
        return True
    d = dotted(call.func)
    if d is not None and d.startswith("self.") and d.count(".") == 1:
        binds = cls.attrs.get(d, [])
        if len(binds) == 1 and isinstance(binds[0].value, cst.Call):
            made = binds[0].value
            made_qual = module.qualify(made.func)
            if last_name(made_qual) in _NORM_LAYERS:
                return True
            if made_qual == "torch.nn.Sequential":
                return _sequential_normalizes(made, module)
            sub = project.resolve_callee(made.func, binds[0].scope)
            if isinstance(sub, ClassFacts):
                return _class_normalizes_input(project, sub, depth + 1)
        helper = project.method_of(cls, d[5:])
        if helper is not None and "norm" in d.lower():
            return True
    return False


def _mentions_name(node: cst.CSTNode, name: str) -> bool:
    return any(isinstance(n, cst.Name) and n.value == name for n in walk(node))


# ------------------------------------------------------------------------------ loaders


@dataclass
class LoaderUse:
    """A `DataLoader(...)` construction and the training loops that iterate it."""

    call: cst.Call
    scope: Scope
    loops: List[LoopFacts] = field(default_factory=list)
    # The call of a project function that built it and handed it back (`create_dataloader(...)`
    # in the training script), where the loader's options are often chosen.
    made_by: Optional[Tuple[Scope, cst.Call]] = None
    lightning_hook: Optional[Scope] = None  # `train_dataloader()` of a Lightning module
    fit_call: Optional[Tuple[Scope, cst.Call]] = None  # Lightning `trainer.fit(model, loader)`
    # The `{"train": loader, ...}` dict that hands it to a runner (Catalyst's `loaders=`).
    keyed: Optional[Tuple[Scope, cst.Dict]] = None
    # The name that says it is for training, when nothing in sight reads it (`train_loader`
    # returned by `get_dataloaders()`, or the loader `get_train_loader()` returns).
    named: Optional[str] = None
    # A call inside an epoch loop that hands it to a training function out of sight
    # (`fit_one_epoch(model, ..., train_loader, ...)` from a module the analysis lacks).
    epoch_call: Optional[Tuple[Scope, cst.Call]] = None

    @property
    def module(self) -> ModuleFacts:
        return self.scope.module


def with_guessed(uses: List[LoaderUse], *guessed: List[LoaderUse]) -> List[LoaderUse]:
    """`uses` (the loaders seen read by training code) and, after them, the loaders of each
    guessed list not already among them: a new list (`training_loaders` is cached)."""
    out = list(uses)
    seen = {id(u.call) for u in out}
    for more in guessed:
        for u in more:
            if id(u.call) not in seen:
                seen.add(id(u.call))
                out.append(u)
    return out


def is_training_loop(lf: LoopFacts) -> bool:
    """A loop that backpropagates and updates something: an optimizer steps (or an object
    that may be one), the parameters are updated by hand, or an optimizer is cleared. A
    backward with none of these computes gradients for their own sake (influence scores,
    saliency); one whose every backward serves a perturbed copy of the data is an attack."""
    if not lf.has(L.BACKWARD):
        return False
    if lf.has(L.STEP, L.SCALER_STEP, L.UNKNOWN_STEP):
        return True  # (not a manual update: an attack writes `delta.data = ...` too)
    updates = any(
        (e.kind == L.MANUAL_UPDATE and not _binds_a_local(e)) or (e.kind == L.ZERO_GRAD and _clears_an_optimizer(e))
        for e in lf.events
    )
    return updates and not all(_perturbs_inputs(e.scope) for e in lf.events if e.kind == L.BACKWARD)


def _binds_a_local(e: L.Event) -> bool:
    """`grads_list = [torch.autograd.grad(...) ...]`: gradients kept in a new name, not written
    into the parameters."""
    node = e.node
    return isinstance(node, cst.Assign) and all(isinstance(t.target, cst.Name) for t in node.targets)


def _clears_an_optimizer(e: L.Event) -> bool:
    """`opt.zero_grad()` (an optimizer, or an unknown object named like one), not
    `self.model.zero_grad()` before a gradient computed for its own sake."""
    if e.receiver is not None:
        return e.receiver.kind == K.OPTIMIZER
    func = e.node.func if isinstance(e.node, cst.Call) else None
    owner = dotted(func.value) if isinstance(func, cst.Attribute) else None
    return owner is None or "opt" in owner.lower()


def _perturbs_inputs(scope: Scope) -> bool:
    """The function makes a copy of its data require gradients and reads that copy's `.grad`
    (`delta = torch.zeros_like(X)`, `delta.requires_grad = True` ... `delta.grad`; or the
    parameter `images` itself): a perturbation of inputs, not weights (`w = torch.randn(n,
    requires_grad=True)` trained by hand is not one)."""
    if not isinstance(scope.node, cst.FunctionDef):
        return False
    text = scope.module.tree.code_for_node(scope.node)
    for name in set(_GRAD_READ.findall(text)):
        if name in scope.params:
            made = True
        else:
            made = any(
                b.how == "assign" and _COPY_OF_DATA.search(scope.module.tree.code_for_node(b.value))
                for b in scope.bindings.get(name, [])
            )
        if made and re.search(rf"\b{re.escape(name)}\b[^\n]*requires_grad", text):
            return True
    return False


_GRAD_READ = re.compile(r"\b(\w+)\.grad\b")
_COPY_OF_DATA = re.compile(r"_like\(|\.clone\(|\.detach\(")


def loader_origins(
    project: Project, expr: cst.BaseExpression, scope: Scope, depth: int = 0, frames: Tuple[CallFrame, ...] = ()
) -> List[Tuple[cst.Call, Scope]]:
    """Every `DataLoader(...)` construction an iterable expression may be (empty if unknown)."""
    return _loader_search(project, expr, scope, depth, frames).out


def _loader_search(
    project: Project, expr: cst.BaseExpression, scope: Scope, depth: int = 0, frames: Tuple[CallFrame, ...] = ()
) -> "_LoaderSearch":
    """The search behind `loader_origins`, with what it learnt on the way (`made_by`)."""
    search = _LoaderSearch(project)
    search.walk(expr, scope, depth, frames)
    return search


class _LoaderSearch:
    """The `DataLoader(...)` constructions an expression may be, found by following names,
    calls, tuple elements, `self.` attributes and parameters (to their callers' arguments)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.out: List[Tuple[cst.Call, Scope]] = []
        self.seen: Set[Tuple[int, int]] = set()
        # id(construction) -> the outermost project call that returned it, when one did
        self.made_by: Dict[int, Tuple[Scope, cst.Call]] = {}

    def walk(
        self,
        expr: cst.BaseExpression,
        scope: Scope,
        depth: int,
        frames: Tuple[CallFrame, ...],
    ) -> None:
        if depth > 12 or (id(expr), id(scope)) in self.seen:
            return
        self.seen.add((id(expr), id(scope)))
        nxt = depth + 1
        if isinstance(expr, cst.Call):
            self.walk_call(expr, scope, nxt, frames)
            return
        if isinstance(expr, cst.Name):
            self.walk_name(expr, scope, nxt, frames)
            return
        if isinstance(expr, cst.Subscript):
            index = M.int_index(expr)  # `make_loaders()[0]`
            if index is not None and index >= 0:
                self.element(expr.value, index, scope, nxt, frames)
            return
        if isinstance(expr, cst.Attribute):
            self.walk_self_attr(expr, scope, nxt, frames)
            return
        if isinstance(expr, cst.IfExp):  # `tqdm(loader) if verbose else loader`
            self.walk(expr.body, scope, nxt, frames)
            self.walk(expr.orelse, scope, nxt, frames)

    def walk_call(
        self,
        expr: cst.Call,
        scope: Scope,
        nxt: int,
        frames: Tuple[CallFrame, ...],
    ) -> None:
        """A call: a `DataLoader(...)` itself, a wrapper around an iterable, or a project function."""
        qual = scope.module.qualify(expr.func)
        if K.kind_of_constructor(qual) == K.DATALOADER or self.loader_class(expr.func, scope):
            self.out.append((expr, scope))
            if frames:
                self.made_by.setdefault(id(expr), (frames[0].caller, frames[0].call))
            return
        if isinstance(expr.func, cst.Name) and expr.func.value in ("enumerate", "iter", "zip", "list", "reversed"):
            for a in expr.args[:1] if expr.func.value != "zip" else expr.args:
                if not a.star:
                    self.walk(a.value, scope, nxt, frames)
            return
        if (qual or "").startswith(
            ("tqdm", "itertools.islice", "itertools.cycle", "rich.progress.track")
        ) and expr.args:
            self.walk(expr.args[0].value, scope, nxt, frames)
            return
        if isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "prepare" and len(expr.args) == 1:
            self.walk(expr.args[0].value, scope, nxt, frames)
            return
        callee = self.project.resolve_callee(expr.func, scope)
        if isinstance(callee, Scope):
            fr = CallFrame(callee, expr, scope, isinstance(expr.func, cst.Attribute))
            for rv in return_values(callee):
                self.walk(rv, callee, nxt, frames + (fr,))
            if _yields_from_first_param(callee) and expr.args and not expr.args[0].star:
                self.walk(expr.args[0].value, scope, nxt, frames)  # `def cycle(dl): ... for b in dl: yield b`
        elif (
            callee is None
            and (isinstance(expr.func, cst.Name) or qual is not None)
            and expr.args
            and expr.args[0].keyword is None
            and not expr.args[0].star
        ):
            # `for data in iterate_tqdm(loader, verbosity)`: a function out of sight that
            # is handed the loader first is taken to yield its batches (a progress bar, a
            # prefetcher), as `tqdm(loader)` does. Not a method of an object (a framework's
            # `fabric.setup_dataloaders(loader)` may replace the sampler).
            self.walk(expr.args[0].value, scope, nxt, frames)

    def loader_class(self, func: cst.BaseExpression, scope: Scope, hops: int = 0) -> bool:
        """`func` names a `DataLoader` class: a project subclass of it, or a name bound to one of
        several (`loader = DataLoader if weighted else InfiniteDataLoader`)."""
        if isinstance(func, cst.IfExp):
            return self.loader_class(func.body, scope, hops) and self.loader_class(func.orelse, scope, hops)
        if K.kind_of_constructor(scope.module.qualify(func)) == K.DATALOADER:
            return True
        cls = self.project.resolve_callee(func, scope)
        if isinstance(cls, ClassFacts):
            return any(K.kind_of_constructor(q) == K.DATALOADER for q in self.project.base_quals(cls))
        if isinstance(func, cst.Name) and hops < 2:
            defs, open_before = scope_index(scope).reaching(func.value, func)
            return (
                bool(defs)
                and not open_before
                and all(d.how == "assign" and not d.path and self.loader_class(d.value, scope, hops + 1) for d in defs)
            )
        return False

    def walk_name(
        self,
        expr: cst.Name,
        scope: Scope,
        nxt: int,
        frames: Tuple[CallFrame, ...],
    ) -> None:
        """A name: what its reaching assignments bind, or the arguments given for a parameter."""
        for s, defs, open_before in reaching_outwards(scope, expr):
            for d in defs:
                if d.how == "assign" and not d.path:
                    self.walk(d.value, s, nxt, frames)
                elif (
                    d.how == "assign"
                    and d.path
                    and isinstance(d.value, cst.Call)
                    and isinstance(d.value.func, cst.Attribute)
                    and d.value.func.attr.value == "prepare"
                ):
                    i = d.path[0]
                    if i < len(d.value.args):
                        self.walk(d.value.args[i].value, s, nxt, frames)
                elif d.how == "assign" and d.path and len(d.path) == 1:
                    # `train_loader, val_loader = make_loaders(...)`: that element of what it returns
                    self.element(d.value, d.path[0], s, nxt, frames)
            if open_before and expr.value in s.params:
                self.param(expr.value, s, nxt, frames)

    def walk_self_attr(
        self,
        expr: cst.Attribute,
        scope: Scope,
        nxt: int,
        frames: Tuple[CallFrame, ...],
    ) -> None:
        """`self.loader`: what the class (or a base class) assigns to it."""
        key = dotted(expr)
        cls = enclosing_class(scope)
        if key is None or cls is None or not key.startswith("self.") or key.count(".") != 1:
            return
        for c in [cls, *self.project.base_classes(cls)]:
            if key in c.attrs:
                for b in c.attrs[key]:
                    if b.index is None:
                        self.walk(b.value, b.scope, nxt, frames)
                return

    def element(
        self,
        expr: cst.BaseExpression,
        i: int,
        scope: Scope,
        depth: int,
        frames: Tuple[CallFrame, ...],
    ) -> None:
        """The loaders element `i` of a tuple expression may be: a literal tuple, what a project
        function returns in that place, or a name bound to either."""
        if depth > 12:
            return
        if isinstance(expr, (cst.Tuple, cst.List)):
            if i < len(expr.elements) and not any(isinstance(e, cst.StarredElement) for e in expr.elements[: i + 1]):
                self.walk(expr.elements[i].value, scope, depth + 1, frames)
            return
        if isinstance(expr, cst.Call):
            callee = self.project.resolve_callee(expr.func, scope)
            if isinstance(callee, Scope):
                fr = CallFrame(callee, expr, scope, isinstance(expr.func, cst.Attribute))
                for rv in return_values(callee):
                    self.element(rv, i, callee, depth + 1, frames + (fr,))
            return
        if isinstance(expr, cst.Name):
            for s, defs, _open in reaching_outwards(scope, expr):
                for d in defs:
                    if d.how == "assign" and not d.path:
                        self.element(d.value, i, s, depth + 1, frames)

    def param(
        self,
        name: str,
        fn: Scope,
        depth: int,
        frames: Tuple[CallFrame, ...],
    ) -> None:
        for fr in reversed(frames):
            if fr.callee is fn:
                arg = C.bind_default(fr.call, fn, name, fr.bound_method)
                if arg is not None:
                    self.walk(arg, fr.caller, depth, frames[: frames.index(fr)])
                return
        if fn.cls is not None and fn.simple_name == "__init__":
            sites = self.project.instantiation_sites(fn.cls)
        else:
            sites = self.project.callers(fn)
        for caller, call in sites[:12]:
            bound = isinstance(call.func, cst.Attribute) or fn.simple_name == "__init__"
            arg = C.bind_default(call, fn, name, bound)
            if arg is not None:
                self.walk(arg, caller, depth, frames)


def training_loaders(project: Project, loops: LoopAnalyzer) -> List[LoaderUse]:
    """`DataLoader(...)` constructions read by training loops, or returned by a Lightning
    `train_dataloader()` hook (cached per project)."""
    return project.once(training_loaders, lambda: _training_loaders(project, loops))


def _training_loaders(project: Project, loops: LoopAnalyzer) -> List[LoaderUse]:
    uses: Dict[int, LoaderUse] = {}
    for m in project.modules:
        for lf in loops.loops_of(m):
            if not is_training_loop(lf):
                continue
            # What the loop iterates, and what it draws batches from with `next(it)` of
            # `it = iter(train_loader)`.
            head = [lf.node.iter] if isinstance(lf.node, cst.For) else []
            for i, source in enumerate(head + _drawn_loaders(lf)):
                search = _loader_search(project, source, lf.scope)
                if i < len(head) and len(search.out) > 1 and _every_backward_guarded_here(lf):
                    # One loop for training and evaluation (`if train: loss.backward()`): which
                    # loader is the training one is decided at run time.
                    continue
                for call, scope in search.out:
                    use = uses.setdefault(id(call), LoaderUse(call, scope))
                    if use.made_by is None:
                        use.made_by = search.made_by.get(id(call))
                    if all(x is not lf for x in use.loops):
                        use.loops.append(lf)
        for scope, call, loader in _lightning_fit_loaders(m):
            for lcall, lscope in loader_origins(project, loader, scope):
                use = uses.setdefault(id(lcall), LoaderUse(lcall, lscope))
                if use.fit_call is None:
                    use.fit_call = (scope, call)
        for cls in m.classes.values():
            hook = cls.methods.get("train_dataloader")
            if hook is None or not any("lightning" in q.lower() for q in project.base_quals(cls)):
                continue
            for rv in return_values(hook):
                for call, scope in loader_origins(project, rv, hook):
                    use = uses.setdefault(id(call), LoaderUse(call, scope))
                    use.lightning_hook = hook
        for scope, entry, value in _train_keyed_entries(m):
            for lcall, lscope in loader_origins(project, value, scope):
                if id(lcall) not in uses:
                    uses[id(lcall)] = LoaderUse(lcall, lscope, keyed=(scope, entry))
    return list(uses.values())


# Keys under which a dict of loaders hands over the training one (`loaders={"train": ...}`).
_TRAIN_KEYS = frozenset({"train", "training"})
_TRAIN_KEY_TEXT = re.compile(r"""["']train(?:ing)?["']\s*:""")


def _train_keyed_entries(m: ModuleFacts) -> Iterator[Tuple[Scope, cst.Dict, cst.BaseExpression]]:
    """(scope, dict, value) of the `"train"` entries of dict literals: a runner given
    `loaders={"train": DataLoader(...), "valid": ...}` trains on that entry."""
    if not _TRAIN_KEY_TEXT.search(m.text):
        return
    for node in walk(m.tree):
        if not isinstance(node, cst.Dict):
            continue
        for el in node.elements:
            if (
                isinstance(el, cst.DictElement)
                and isinstance(el.key, cst.SimpleString)
                and el.key.evaluated_value in _TRAIN_KEYS
            ):
                scope = scope_of_node(m, el.value)  # (a value is indexed: a call or a name)
                if scope is not None:
                    yield scope, node, el.value


def _every_backward_guarded_here(lf: LoopFacts) -> bool:
    """Each backward of the loop runs under a condition written in the loop itself (a test in
    the helper it calls, `if self.grad_accum...`, says nothing about the loop's purpose)."""
    backwards = [e for e in lf.events if e.kind == L.BACKWARD]
    if not backwards or not all(e.conds for e in backwards):
        return False
    if any(a.exclusive_with(b) for i, a in enumerate(backwards) for b in backwards[i + 1 :]):
        return False  # a backward on each arm (`if fp16: scaler.scale(loss).backward() else: ...`)
    here = {id(n) for n in walk(lf.node)}
    return all(any(c in here for c in e.conds) for e in backwards)


def out_of_sight_training_loaders(project: Project, loops: LoopAnalyzer) -> List[LoaderUse]:
    """Loaders named for training (`train_loader`, `self.train_dl`) iterated in a loop inside
    another loop (an epoch loop) whose step is out of sight: `model.optimize_parameters()` of a
    model built by a factory the analysis cannot follow, so no backward is seen. Only for
    questions where the name is evidence enough (is this sampler told its epoch?)."""
    out: List[LoaderUse] = []
    for m in project.modules:
        if "train" not in m.text:
            continue
        for lf in loops.loops_of(m):
            if not isinstance(lf.node, cst.For) or is_training_loop(lf):
                continue
            it: cst.BaseExpression = lf.node.iter
            while isinstance(it, cst.Call) and it.args:  # enumerate(...), tqdm(...)
                it = it.args[0].value
            name = dotted(it)
            if name is None or "train" not in name.rsplit(".", 1)[-1].lower():
                continue
            if not scope_index(lf.scope).loops_around(lf.node):
                continue
            for call, scope in loader_origins(project, it, lf.scope):
                out.append(LoaderUse(call, scope, loops=[lf]))
    return out


_NOT_TRAINING_WORDS = ("val", "test", "eval", "dev", "pred", "infer", "calib")


def _names_training(name: str) -> bool:
    low = name.lower()
    return "train" in low and not any(w in low for w in _NOT_TRAINING_WORDS)


def named_training_loaders(project: Project, loops: LoopAnalyzer) -> List[LoaderUse]:
    """`DataLoader(...)` calls that a function hands back, named for training: bound to a name
    such as `train_loader` and returned (with the other loaders), or returned by a function
    such as `get_train_loader()`, when no loop in sight reads them. Their training loop is in
    code the analysis lacks (a framework's `fit`, another repository's script)."""
    out: List[LoaderUse] = []
    for m in project.modules:
        if "DataLoader" not in m.text or "train" not in m.text.lower():
            continue
        for scope in m.scopes:
            if isinstance(scope.node, cst.Module):
                continue
            loaders = [c for c in scope.calls if K.kind_of_constructor(m.qualify(c.func)) == K.DATALOADER]
            returned = return_values(scope) if loaders else []
            for call in loaders if returned else []:
                name = _returned_name(scope, call, returned)
                if name is None and len(loaders) == 1 and any(r is call for r in returned):
                    name = scope.simple_name if _names_training(scope.simple_name) else None
                if name is not None and _names_training(name):
                    out.append(LoaderUse(call, scope, named=name))
    if out:
        read = _loaders_read_by_loops(project, loops)
        out = [u for u in out if id(u.call) not in read]
    return out


def _loaders_read_by_loops(project: Project, loops: LoopAnalyzer) -> Set[int]:
    """Ids of the `DataLoader(...)` calls that some loop in sight iterates (feature extraction
    over the training set, an evaluation pass): their use is known, not guessed from a name."""
    read: Set[int] = set()
    for m in project.modules:
        for lf in loops.loops_of(m):
            if isinstance(lf.node, cst.For):
                read.update(id(c) for c, _ in loader_origins(project, lf.node.iter, lf.scope))
    return read


def _returned_name(scope: Scope, call: cst.Call, returned: List[cst.BaseExpression]) -> Optional[str]:
    """The name `call` is bound to, when the function returns that name (alone or among others)."""
    for name, bindings in scope.bindings.items():
        if len(bindings) == 1 and bindings[0].value is call and bindings[0].index is None:
            for rv in returned:
                elements = [e.value for e in rv.elements] if isinstance(rv, (cst.Tuple, cst.List)) else [rv]
                if any(isinstance(e, cst.Name) and e.value == name for e in elements):
                    return name
    return None


def handed_to_training_each_epoch(project: Project) -> List[LoaderUse]:
    """Loaders passed, inside a loop, to a function out of sight whose name says it trains
    (`fit_one_epoch(..., gen, ...)`, `train_epoch(loader)`): that loop is the epoch loop and
    the training loop is in the function. Only for questions where the name is evidence
    enough (is this sampler told its epoch?)."""
    out: List[LoaderUse] = []
    for m in project.modules:
        if "DataLoader" not in m.text:
            continue
        for scope in m.scopes:
            for call in scope.calls:
                name = (dotted(call.func) or "").rsplit(".", 1)[-1].lower()
                if not ("train" in name or name.startswith("fit")) or not scope_index(scope).loops_around(call):
                    continue
                if project.resolve_callee(call.func, scope) is not None:
                    continue  # a project function: its own loops are judged
                for arg in call.args:
                    if isinstance(arg.value, (cst.Name, cst.Attribute)):
                        for loader, where in loader_origins(project, arg.value, scope):
                            out.append(LoaderUse(loader, where, epoch_call=(scope, call)))
    return out


def _yields_from_first_param(fn: Scope) -> bool:
    """A generator that yields the items of its first parameter (`def cycle(dl): while True:
    for batch in dl: yield batch`): what it yields are that iterable's batches."""
    if not fn.params or not isinstance(fn.node, cst.FunctionDef):
        return False
    first = fn.params[1] if fn.cls is not None and len(fn.params) > 1 and fn.params[0] == "self" else fn.params[0]
    nodes = list(walk(fn.node.body))
    if any(isinstance(n, cst.Yield) and isinstance(n.value, cst.From) and dotted(n.value.item) == first for n in nodes):
        return True  # `yield from dl`
    return any(isinstance(n, cst.Yield) for n in nodes) and any(
        isinstance(n, cst.For) and dotted(n.iter) == first for n in nodes
    )


def _drawn_loaders(lf: LoopFacts) -> List[cst.BaseExpression]:
    """What a training loop draws batches from with `next(it)` (or `it.next()`,
    `it.__next__()`) where `it = iter(loader)`: the `loader` expressions. Only for loops that
    name `next` at all (the text test keeps the walk off every other module)."""
    if "next" not in lf.scope.module.text:
        return []
    out: List[cst.BaseExpression] = []
    for node in walk(lf.node):
        if not isinstance(node, cst.Call):
            continue
        func = node.func
        it: Optional[cst.BaseExpression] = None
        if isinstance(func, cst.Name) and func.value == "next" and node.args:
            it = node.args[0].value
        elif isinstance(func, cst.Attribute) and func.attr.value in ("next", "__next__") and not node.args:
            it = func.value
        if not isinstance(it, cst.Name):
            continue
        for _, defs, _ in reaching_outwards(lf.scope, it):
            for d in defs:
                value = d.value
                if isinstance(value, cst.Call) and dotted(value.func) == "iter" and value.args:
                    out.append(value.args[0].value)
                elif isinstance(value, cst.Call) and value.args:
                    out.append(value)  # `dl = cycle(train_loader)`: the search follows the call
    return out


def _lightning_trainer(expr: cst.BaseExpression, scope: Scope) -> Optional[cst.Call]:
    """The `Trainer(...)` of Lightning that `expr` holds (through simple names)."""
    for _ in range(4):
        if isinstance(expr, cst.Call):
            qual = scope.module.qualify(expr.func) or ""
            if last_name(qual) == "Trainer" and qual.startswith(("lightning", "pytorch_lightning")):
                return expr
            return None
        if not isinstance(expr, cst.Name):
            return None
        defs, open_before = scope_index(scope).reaching(expr.value, expr)
        if open_before and not defs and scope.parent is not None:
            scope = scope.parent
            continue
        if len(defs) != 1 or open_before or defs[0].how not in ("assign", "with") or defs[0].path:
            return None
        expr = defs[0].value
    return None


def _lightning_fit_loaders(module: ModuleFacts) -> List[Tuple[Scope, cst.Call, cst.BaseExpression]]:
    """`trainer.fit(model, train_loader)` / `train_dataloaders=...` with a Lightning `Trainer`:
    the loader it trains on. A trainer built with `overfit_batches` turns shuffling off on
    purpose and is left out."""
    if "fit" not in module.text or "Trainer" not in module.text:
        return []
    out: List[Tuple[Scope, cst.Call, cst.BaseExpression]] = []
    for scope in module.scopes:
        for call in scope.calls:
            func = call.func
            if not isinstance(func, cst.Attribute) or func.attr.value != "fit" or has_star_args(call):
                continue
            trainer = _lightning_trainer(func.value, scope)
            if (
                trainer is None
                or C.arg(trainer, None, "overfit_batches", skip_star=True) is not None
                or has_star_args(trainer)
            ):
                continue
            loader = C.arg(call, 1, "train_dataloaders", skip_star=True) or C.arg(
                call, None, "train_dataloader", skip_star=True
            )
            if loader is not None:
                out.append((scope, call, loader))
    return out


def dataset_is_iterable(
    project: Project, expr: Optional[cst.BaseExpression], scope: Scope, depth: int = 0
) -> Optional[bool]:
    """True for an IterableDataset / stream, False for a map-style dataset, None if unknown."""
    if expr is None or depth > 8:
        return None
    if isinstance(expr, cst.Call):
        return _call_dataset_is_iterable(project, expr, scope, depth)
    if isinstance(expr, cst.Name):
        return _name_dataset_is_iterable(project, expr, scope, depth)
    if isinstance(expr, cst.Attribute):
        key = dotted(expr)
        cls = enclosing_class(scope)
        if key and cls is not None and key.startswith("self.") and key.count(".") == 1:
            binds = [b for b in cls.attrs.get(key, []) if not is_none(b.value)]  # (`self.dataset = None` first)
            vals = {dataset_is_iterable(project, b.value, b.scope, depth + 1) for b in binds if b.index is None}
            return vals.pop() if len(vals) == 1 and len(binds) >= 1 else None
    if isinstance(expr, cst.Subscript):
        # `load_dataset(...)["train"]`, `splits[0]`
        return dataset_is_iterable(project, expr.value, scope, depth + 1)
    return None


def _call_dataset_is_iterable(project: Project, expr: cst.Call, scope: Scope, depth: int) -> Optional[bool]:
    """A dataset constructed (or returned) by a call: torch, streaming libraries, project code."""
    qual = scope.module.qualify(expr.func) or ""
    last = last_name(qual)
    if qual.startswith("torch.utils.data."):
        if last in ("IterableDataset", "ChainDataset"):
            return True
        if last in ("Subset", "random_split"):
            return dataset_is_iterable(project, C.arg(expr, 0, "dataset", skip_star=True), scope, depth + 1)
        return False
    if qual.startswith(("webdataset", "torchdata", "wds.")) or last in ("WebDataset", "IterableWrapper"):
        return True
    if qual.startswith("datasets.") and last in ("load_dataset",):
        streaming = C.arg(expr, None, "streaming", skip_star=True)
        return (
            True
            if is_true(streaming)
            else (None if streaming is not None and not is_false_or_none(streaming) else False)
        )
    if qual.startswith("torchvision.datasets."):
        return False
    if isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "to_iterable_dataset":
        return True
    callee = project.resolve_callee(expr.func, scope)
    if isinstance(callee, ClassFacts):
        return _class_dataset_is_iterable(project, callee)
    if isinstance(callee, Scope):
        vals = {dataset_is_iterable(project, rv, callee, depth + 1) for rv in return_values(callee)}
        return vals.pop() if len(vals) == 1 else None
    return None


def _class_dataset_is_iterable(project: Project, cls: ClassFacts) -> Optional[bool]:
    """A project dataset class: by its bases, else by whether it defines `__getitem__` or `__iter__`."""
    quals = project.base_quals(cls)
    if any(q.endswith(("IterableDataset", "IterDataPipe")) for q in quals):
        return True
    if project.method_of(cls, "__getitem__") is not None:
        return False
    if project.method_of(cls, "__iter__") is not None:
        return True
    return None


def _name_dataset_is_iterable(project: Project, expr: cst.Name, scope: Scope, depth: int) -> Optional[bool]:
    """A name: the arguments given for a parameter, else what its reaching assignments bind."""
    defs, open_before = scope_index(scope).reaching(expr.value, expr)
    if open_before and expr.value in scope.params:
        sites = (
            project.instantiation_sites(scope.cls)
            if scope.cls is not None and scope.simple_name == "__init__"
            else project.callers(scope)
        )
        vals = set()
        for caller, call in sites[:8]:
            arg = C.bind_default(
                call, scope, expr.value, isinstance(call.func, cst.Attribute) or scope.simple_name == "__init__"
            )
            vals.add(dataset_is_iterable(project, arg, caller, depth + 1) if arg is not None else None)
        return vals.pop() if len(vals) == 1 else None
    if not defs and scope.parent is not None:
        return dataset_is_iterable(project, expr, scope.parent, depth + 1)
    vals = set()
    for d in defs:
        if d.how != "assign":
            return None
        if d.path:
            if isinstance(d.value, cst.Call) and (scope.module.qualify(d.value.func) or "").endswith("random_split"):
                vals.add(dataset_is_iterable(project, C.arg(d.value, 0, "dataset", skip_star=True), scope, depth + 1))
                continue
            if isinstance(d.value, (cst.Tuple, cst.List)) and len(d.path) == 1 and d.path[0] < len(d.value.elements):
                vals.add(dataset_is_iterable(project, d.value.elements[d.path[0]].value, scope, depth + 1))
                continue
            return None
        vals.add(dataset_is_iterable(project, d.value, scope, depth + 1))
    return vals.pop() if len(vals) == 1 else None


def iter_calls(module: ModuleFacts) -> Iterable[Tuple[Scope, cst.Call]]:
    for s in module.scopes:
        for c in s.calls:
            yield s, c


_RANDOM_DRAWS = {
    "torch.randn",
    "torch.rand",
    "torch.randint",
    "torch.normal",
    "torch.randn_like",
    "torch.rand_like",
    "torch.randint_like",
    "torch.bernoulli",
    "torch.multinomial",
    "torch.empty",
    "torch.zeros",
    "torch.ones",
    "torch.full",
    "numpy.random.randn",
    "numpy.random.rand",
    "numpy.random.randint",
    "numpy.random.normal",
    "numpy.random.uniform",
    "numpy.random.random",
    "numpy.random.random_sample",
    "numpy.random.choice",
}
_KEEPS_VALUES = {
    "float",
    "double",
    "half",
    "long",
    "int",
    "to",
    "cuda",
    "cpu",
    "view",
    "reshape",
    "unsqueeze",
    "squeeze",
    "astype",
    "abs",
    "clone",
    "contiguous",
    "numpy",
}


# In-place tensor methods that overwrite every value with a random draw.
_FILLS_RANDOMLY = frozenset({"random_", "uniform_", "normal_", "bernoulli_", "exponential_", "geometric_"})


def random_draw(project: Project, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> bool:
    """Every value `expr` may hold is a fresh random draw (`torch.randn(...)`,
    `np.random.randint(...)`, through dtype/shape changes and simple names): synthetic i.i.d.
    data whose order carries nothing."""
    if depth > 8:
        return False
    if isinstance(expr, cst.Call):
        qual = scope.module.qualify(expr.func)
        if qual in _RANDOM_DRAWS:
            return True
        if isinstance(expr.func, cst.Attribute):
            if expr.func.attr.value in _KEEPS_VALUES:
                return random_draw(project, expr.func.value, scope, depth + 1)
            if expr.func.attr.value in _FILLS_RANDOMLY:
                return True  # `torch.empty(n, dtype=torch.long).random_(k)`: filled with draws in place
            if expr.func.attr.value in ("integers", "random", "normal", "standard_normal", "uniform"):
                # a numpy Generator: `rng = np.random.default_rng(0)`
                recv = expr.func.value
                if isinstance(recv, cst.Name):
                    defs, _ = scope_index(scope).reaching(recv.value, recv)
                    return bool(defs) and all(
                        isinstance(d.value, cst.Call)
                        and (scope.module.qualify(d.value.func) or "").startswith("numpy.random.")
                        for d in defs
                    )
        return False
    if isinstance(expr, cst.Name):
        defs, open_before = scope_index(scope).reaching(expr.value, expr)
        if open_before or not defs:
            return False
        return all(d.how == "assign" and not d.path and random_draw(project, d.value, scope, depth + 1) for d in defs)
    if isinstance(expr, cst.Attribute):
        binds = self_attr_bindings(expr, scope) or []
        return bool(binds) and all(
            b.how == "assign" and b.index is None and random_draw(project, b.value, b.scope, depth + 1) for b in binds
        )
    if isinstance(expr, cst.Subscript):
        return random_draw(project, expr.value, scope, depth + 1)
    return False


def synthetic_dataset(project: Project, origin: cst.BaseExpression, scope: Scope) -> bool:
    """A dataset of random tensors: `TensorDataset(torch.randn(...), torch.randint(...))`, or a
    project `Dataset` whose `__getitem__` returns only (rows of) random draws."""
    if not isinstance(origin, cst.Call):
        return False
    qual = scope.module.qualify(origin.func) or ""
    if qual in ("torch.utils.data.TensorDataset", "torch.utils.data.dataset.TensorDataset"):
        args = [a for a in origin.args if a.keyword is None]
        return bool(args) and all(not a.star and random_draw(project, a.value, scope) for a in args)
    callee = project.resolve_callee(origin.func, scope)
    if not isinstance(callee, ClassFacts):
        return False
    getitem = project.method_of(callee, "__getitem__")
    if getitem is None:
        return False
    rets = return_values(getitem)
    if not rets:
        return False
    for rv in rets:
        parts = [el.value for el in rv.elements] if isinstance(rv, (cst.Tuple, cst.List)) else [rv]
        if not parts or not all(random_draw(project, p, getitem) for p in parts):
            return False
    return True


def dataset_length(project: Project, origin: cst.BaseExpression, scope: Scope) -> Optional[int]:
    """The number of samples of a dataset when it is written in the code: `Subset(ds, range(5))`,
    `Subset(ds, [0, 1])`, `TensorDataset(torch.randn(8, 3), ...)`."""
    if not isinstance(origin, cst.Call):
        return None
    qual = scope.module.qualify(origin.func) or ""
    if qual in ("torch.utils.data.Subset", "torch.utils.data.dataset.Subset"):
        idx = C.arg(origin, 1, "indices", skip_star=True)
        if isinstance(idx, cst.Call) and isinstance(idx.func, cst.Name) and idx.func.value == "list" and idx.args:
            idx = idx.args[0].value
        if isinstance(idx, (cst.List, cst.Tuple)) and not any(isinstance(e, cst.StarredElement) for e in idx.elements):
            return len(idx.elements)
        if isinstance(idx, cst.Call) and isinstance(idx.func, cst.Name) and idx.func.value == "range":
            nums = [number(a.value) for a in idx.args if a.keyword is None]
            if not nums or any(n is None for n in nums) or len(nums) > 2:
                return None
            lo, hi = (0.0, nums[0]) if len(nums) == 1 else (nums[0], nums[1])
            assert lo is not None and hi is not None
            return max(0, int(hi - lo))
        return None
    if qual in ("torch.utils.data.TensorDataset", "torch.utils.data.dataset.TensorDataset") and origin.args:
        first = origin.args[0].value
        if isinstance(first, cst.Call) and scope.module.qualify(first.func) in (
            "torch.randn",
            "torch.rand",
            "torch.zeros",
            "torch.ones",
            "torch.empty",
        ):
            size = first.args[0].value if first.args else None
            if isinstance(size, (cst.Tuple, cst.List)) and size.elements:
                size = size.elements[0].value
            n = number(size)
            return int(n) if n is not None else None
    return None


def single_pass(project: Project, lf: LoopFacts, depth: int = 0) -> bool:
    """The loop over the loader runs once per program run: no loop around it in its function,
    and its function is called only from places outside loops (a throughput benchmark, a
    one-pass fine-tuning demo). Unknown callers mean it may be called per epoch."""
    node = lf.node
    if isinstance(node, cst.For):
        it = node.iter
        while isinstance(it, cst.Call) and it.args:
            q = lf.scope.module.qualify(it.func) or ""
            if q.endswith("cycle") or q.endswith("repeat"):
                return False
            it = it.args[0].value
    if drawn_cyclically(project, lf) is not None:
        return False  # `batch = next(it)` of `it = cycle(train_loader)`: epoch after epoch
    return _scope_runs_once(project, lf.scope, node, depth)


def drawn_cyclically(project: Project, lf: LoopFacts) -> Optional[cst.Call]:
    """The `cycle(train_loader)` call a loop draws its batches from with `next(it)`."""
    return next(
        (src for src in _drawn_loaders(lf) if isinstance(src, cst.Call) and _cycles(project, src, lf.scope)), None
    )


def _cycles(project: Project, call: cst.Call, scope: Scope) -> bool:
    """`itertools.cycle(loader)`, or a project generator that iterates its argument forever
    (`def cycle(loader): while True: for batch in loader: yield batch`)."""
    q = scope.module.qualify(call.func) or dotted(call.func) or ""
    if q.endswith(("cycle", "repeat")):
        return True
    fn = project.resolve_callee(call.func, scope)
    if not isinstance(fn, Scope) or not isinstance(fn.node, cst.FunctionDef):
        return False
    return any(
        isinstance(n, cst.While)
        and isinstance(n.test, cst.Name)
        and n.test.value == "True"
        and any(isinstance(y, cst.Yield) for y in walk(n.body))
        for n in walk(fn.node.body)
    )


def _scope_runs_once(project: Project, scope: Scope, node: cst.CSTNode, depth: int) -> bool:
    if depth > 4 or scope_index(scope).loops_around(node):
        return False
    if isinstance(scope.node, cst.Module):
        return True
    if scope.cls is not None:
        return False  # a method: called per epoch by a trainer, a framework...
    sites = project.callers(scope)
    if not sites:
        return False
    return all(_scope_runs_once(project, caller, call, depth + 1) for caller, call in sites[:8])
