"""The records that cross the pipe from the traced process to the parent: the one schema.

The child builds these objects and the parent reads their attributes; neither side spells a
record's keys. On the pipe each record is one JSON line, its fields plus `"kind": KIND`
(`encode` / `decode`); the in-process API hands the objects over as they are. The words
records carry (how a run ended, kinds of forward pass, ...) are defined here too.

No torch here: the parent imports this module in the base install.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, List, Optional, Tuple, Type, TypeVar, Union

# A measured number: NaN and infinities are spelled "nan", "inf", "-inf" (JSON has neither).
Number = Union[int, float, str]

# The environment that hands the child its channel, its configuration and the package root.
FD_ENV = "TRAINLINT_TRACE_FD"
CONFIG_ENV = "TRAINLINT_TRACE_CONFIG"
PATH_ENV = "TRAINLINT_TRACE_PATH"


def as_float(value: Any) -> Optional[float]:
    """A record's number as a float ("nan", "inf" spelled out become floats); None if absent."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


# ---------------------------------------------------------------------- vocabulary
class ExitStatus:
    """How the script ended, as the child saw it (`RunExit.status`)."""

    FINISHED = "finished"
    EXIT = "exit"  # sys.exit with a non-zero status
    ERROR = "error"
    STOPPED = "stopped"  # by the tracer, after the requested steps


class StopReason:
    STEPS = "steps"
    NO_OPTIMIZER_STEP = "no-optimizer-step"
    DIVERGED = "diverged"  # the learning-rate range test's loss diverged
    ALERT = "alert"  # `trace --watch --stop-on`: an alert of that severity
    INTERRUPTED = "interrupted"  # `trace --watch`: the user pressed Ctrl-C


class PassKind:
    """What a forward pass of a model was used for (`PassCount.kind`)."""

    TRAIN = "train"  # its output fed a backward
    EVAL_GRAD = "eval_grad"  # gradients on, but no backward used it
    EVAL_NO_GRAD = "eval_no_grad"  # gradients off


class DropoutState:
    """A functional dropout call inside a module in eval mode (`FunctionalDropout.state`)."""

    ACTIVE_IN_EVAL = "active_in_eval"
    OFF_IN_EVAL = "off_in_eval"


class Activation:
    RELU = "relu"
    SIGMOID = "sigmoid"
    TANH = "tanh"


class SamplerOrder:
    RANDOM = "random"
    SEQUENTIAL = "sequential"
    UNKNOWN = "unknown"  # custom samplers, iterable datasets: no claim either way


class ScalerMethod:
    SCALE = "scale"
    UNSCALE = "unscale_"
    STEP = "step"
    UPDATE = "update"


class ZeroGradTarget:
    OPTIMIZER = "optimizer"
    MODULE = "module"


class NonFiniteAt:
    """Where the first NaN/Inf of a run was seen (`FirstNonFinite.where`)."""

    LOSS = "loss"
    MODULE_OUTPUT = "module output"
    GRADIENT = "gradient"
    PARAMETER = "parameter after step"


CLIP_NORM = "clip_grad_norm_"
CLIP_VALUE = "clip_grad_value_"
# The torch.nn.functional losses whose inputs are recorded, by family.
CLASS_LOSSES = ("cross_entropy", "nll_loss")
BINARY_LOSSES = ("binary_cross_entropy", "binary_cross_entropy_with_logits")
REGRESSION_LOSSES = ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss")
LOSSES = CLASS_LOSSES + BINARY_LOSSES + REGRESSION_LOSSES


# ---------------------------------------------------------------------- parts of records
@dataclass
class CodeSite:
    """A line of the user's code: absolute path, 1-based line."""

    path: str
    line: int


@dataclass
class TracebackFrame(CodeSite):
    function: str
    code: str


@dataclass
class TensorStats:
    """A tensor's shape and dtype, and for a float tensor its finite part's statistics."""

    shape: List[int]
    dtype: str
    finite: Optional[bool] = None
    min: Optional[Number] = None
    max: Optional[Number] = None
    mean: Optional[Number] = None
    std: Optional[Number] = None
    name: Optional[str] = None  # where it sat in the model's arguments: "0", "1[0]", "x"


@dataclass
class TargetStats:
    """The targets a loss was given; the last three only on a loss function's first calls."""

    shape: List[int]
    dtype: str
    min: Optional[Number] = None
    max: Optional[Number] = None
    integer: Optional[bool] = None
    min_valid: Optional[Number] = None  # the minimum without ignore_index
    sorted: Optional[bool] = None
    distinct: Optional[int] = None


@dataclass
class RowStats:
    """Per-row sums and logsumexp of a classification loss's input (over the class dimension)."""

    row_sum_min: Number
    row_sum_max: Number
    lse_min: Number
    lse_max: Number


@dataclass
class LossProducer:
    """The layer whose output went into a loss."""

    module: str
    layer_type: str


@dataclass
class FlowEdge:
    """A layer that took the model's raw input (possibly through a normalisation layer)."""

    layer: str
    layer_type: str
    via_norm: bool
    is_norm: bool


@dataclass
class ParamInfo:
    """A parameter held by an optimizer, by its index in the optimizer's parameters."""

    i: int
    name: str
    module: str = ""
    shape: List[int] = field(default_factory=list)
    requires_grad: bool = True
    weighted: bool = False  # the weight of a Linear/Conv layer
    order: Optional[int] = None  # forward order of its layer in the first training pass
    site: Optional[CodeSite] = None


@dataclass
class ModelParam:
    name: str
    requires_grad: bool
    site: Optional[CodeSite] = None


@dataclass
class ParamStep:
    """One parameter at one optimizer step: norms of its gradient, update and weight."""

    i: int
    grad: Optional[Number]
    received: bool  # a gradient was accumulated into it since the previous step
    delta: Optional[Number] = None
    w: Optional[Number] = None
    init_std: Optional[Number] = None  # first step only, weight matrices
    init_range: Optional[Number] = None
    rows_same: Optional[Number] = None


@dataclass
class StaleGrad:
    """A sampled parameter whose `.grad` still held the previous step's gradient at backward."""

    i: int
    stale_norm: Number
    new_norm: Optional[Number] = None


@dataclass
class ActivationLayer:
    name: str
    activation: str  # an `Activation`
    site: Optional[CodeSite]
    calls: int
    dead_fraction: Optional[Number] = None  # ReLU
    # ReLU: the fraction of (sample, unit) pairs with a zero output (a conv channel is zero in
    # a sample when its whole map is), read off the same per-unit counts as `dead_fraction`.
    zero_fraction: Optional[Number] = None
    samples: Optional[int] = None
    units: Optional[int] = None
    saturated_fraction: Optional[Number] = None  # sigmoid, tanh


@dataclass
class PassCount:
    """Forward passes of one kind and mode, and where the first one was run."""

    kind: str  # a `PassKind`
    training: bool  # the model's mode
    count: int
    first: Optional[CodeSite] = None

    @property
    def is_eval(self) -> bool:
        return self.kind != PassKind.TRAIN


@dataclass
class LrFindPoint:
    """One step of the range test: the rate it set and the loss given to backward before it."""

    step: int
    lr: float
    loss: Optional[Number]  # mean of the step's backward losses (None: no loss was seen)
    smoothed: Optional[Number]
    seconds: float  # since the previous step (the first step: since the test was installed)


# ---------------------------------------------------------------------- records
@dataclass
class Record:
    """Base of every record; `KIND` tags it on the pipe."""

    KIND: ClassVar[str] = ""


@dataclass
class RunStart(Record):
    KIND: ClassVar[str] = "start"
    pid: int
    steps: int
    overfit: int
    in_process: bool = False
    python: Optional[str] = None
    torch: Optional[str] = None
    script: Optional[str] = None
    module: Optional[str] = None
    argv: List[str] = field(default_factory=list)
    cwd: Optional[str] = None
    seed: Optional[int] = None  # what the tracer seeded random, numpy and torch with


@dataclass
class RunExit(Record):
    KIND: ClassVar[str] = "exit"
    status: str  # an `ExitStatus`
    code: Union[int, str, None] = None
    error_type: Optional[str] = None
    message: Optional[str] = None
    frames: List[TracebackFrame] = field(default_factory=list)
    after_stop: Optional[str] = None  # the script caught the stop, then ended this way
    steps: Optional[int] = None
    backwards: Optional[int] = None


@dataclass
class RunEnd(Record):
    """The last record: everything was sent."""

    KIND: ClassVar[str] = "end"


@dataclass
class StartFailed(Record):
    """The script could not be started (no torch, a syntax error, no such module)."""

    KIND: ClassVar[str] = "fatal"
    message: str
    site: Optional[CodeSite] = None


@dataclass
class TracerStopped(Record):
    KIND: ClassVar[str] = "stop"
    reason: str  # a `StopReason`
    steps: int
    backwards: int
    waited_steps: Optional[int] = None
    eval_seen: Optional[bool] = None


@dataclass
class StopSwallowed(Record):
    """The script caught the tracer's stop and went on; the child ends itself."""

    KIND: ClassVar[str] = "stop_swallowed"


@dataclass
class EvalWait(Record):
    """The requested steps are done, no evaluation pass ran yet: the run goes on."""

    KIND: ClassVar[str] = "wait"
    steps: int
    max_steps: int


@dataclass
class RunNote(Record):
    """Something the tracer changed about the run, for the report's notes."""

    KIND: ClassVar[str] = "note"
    message: str


@dataclass
class TracerError(Record):
    """A defect of the tracer, reported instead of raised into the script."""

    KIND: ClassVar[str] = "internal"
    where: str
    error: str


@dataclass
class ModelParams(Record):
    """A model seen in its first forward pass, with its parameters."""

    KIND: ClassVar[str] = "model"
    model: str
    params: List[ModelParam]
    site: Optional[CodeSite]
    has_drop_or_norm: bool
    # A data-parallel wrapper around the model ("DistributedDataParallel", "DataParallel"), and
    # DDP's settings for parameters a forward leaves unused.
    wrapper: str = ""
    find_unused_parameters: bool = False
    static_graph: bool = False


@dataclass
class InputBatch(Record):
    """The first batch a model was fed with gradients on."""

    KIND: ClassVar[str] = "input"
    model: str
    site: Optional[CodeSite]
    tensors: List[TensorStats]
    step: int


@dataclass
class LossInputs(Record):
    """What a functional loss was fed (its first calls at each line, and any bad class target)."""

    KIND: ClassVar[str] = "loss"
    fn: str
    site: Optional[CodeSite]
    call: int  # n-th call at this line
    step: int
    reduction: Any
    ignore_index: Optional[int]
    label_smoothing: Any
    grad_enabled: bool
    input_has_grad: bool
    produced_by: Optional[LossProducer]
    input: TensorStats
    num_classes: Optional[int] = None
    target: Optional[TargetStats] = None
    rows: Optional[RowStats] = None
    target_out_of_range: bool = False


@dataclass
class LossValue(Record):
    """The value a recorded loss call returned."""

    KIND: ClassVar[str] = "loss_value"
    fn: str
    site: CodeSite  # path "" and line 0 when no user line was found
    call: int
    value: Number
    step: int


@dataclass
class OptimizerParams(Record):
    """An optimizer after its first step: its learning rates and parameters."""

    KIND: ClassVar[str] = "optimizer"
    optimizer: int
    name: str
    site: Optional[CodeSite]
    lr: List[Optional[Number]]
    params: List[ParamInfo]


@dataclass
class StepRecord(Record):
    """One optimizer step."""

    KIND: ClassVar[str] = "step"
    step: int  # over all optimizers
    optimizer: int
    opt_step: int  # of this optimizer
    backwards: int  # since the previous step
    grad_total: Optional[Number]
    lr: List[Optional[Number]]
    params: List[ParamStep]
    stale: List[StaleGrad]
    checked_clear: int  # sampled parameters seen cleared before backward
    losses: List[Number]
    clip_norms: List[Number] = field(default_factory=list)


@dataclass
class ActivationLayers(Record):
    KIND: ClassVar[str] = "activations"
    step: int
    layers: List[ActivationLayer]


@dataclass
class ActivationStd(Record):
    """The std (and mean) of a weighted layer's output in the first training pass."""

    KIND: ClassVar[str] = "act_std"
    module: str
    order: int
    std: Number
    mean: Optional[Number] = None


@dataclass
class NormBatch(Record):
    """A BatchNorm layer in training mode and the largest batch it normalised over (sent again
    when a larger one comes)."""

    KIND: ClassVar[str] = "norm_batch"
    layer: str
    layer_type: str  # the layer's class
    batch: int
    synced: bool  # SyncBatchNorm: the statistics span every rank's batch
    world_size: int  # ranks in the default process group (1 outside a distributed run)
    site: Optional[CodeSite]


@dataclass
class NormReuse(Record):
    """A BatchNorm layer (with running statistics) called again in one training forward pass on
    an input computed from its own earlier output: two feature maps share its statistics."""

    KIND: ClassVar[str] = "norm_reuse"
    model: str
    layer: str
    layer_type: str
    calls: int  # chained calls in the pass (the first one included)
    site: Optional[CodeSite]  # where the layer was built
    called_at: Optional[CodeSite] = None  # the user's line of the first chained repeat call


@dataclass
class ViewPermute(Record):
    """A `view`/`reshape` in a model's first training pass whose output shape is a non-trivial
    permutation of its input's: axes reinterpreted, not moved (a transpose was meant)."""

    KIND: ClassVar[str] = "view_permute"
    model: str
    fn: str  # "view" | "reshape"
    site: CodeSite  # the user's line of the call (a static TL407 finding is matched by it)
    input_shape: List[int]
    output_shape: List[int]


@dataclass
class ForwardPasses(Record):
    """A model's forward passes so far, by kind and mode (sent again when a new kind appears)."""

    KIND: ClassVar[str] = "passes"
    model: str
    has_drop_or_norm: bool
    counts: List[PassCount]


@dataclass
class FirstNonFinite(Record):
    KIND: ClassVar[str] = "nonfinite"
    where: str  # a `NonFiniteAt`
    name: str
    site: Optional[CodeSite]
    step: int
    value: Optional[Number] = None


@dataclass
class FunctionGradcheck(Record):
    """A custom autograd Function's backward checked against finite differences."""

    KIND: ClassVar[str] = "function"
    name: str
    site: Optional[CodeSite]
    checked: bool
    passed: Optional[bool]
    message: str
    shapes: Optional[List[List[int]]] = None
    analytic: Optional[float] = None
    numeric: Optional[float] = None
    eps: Optional[float] = None
    atol: Optional[float] = None
    rtol: Optional[float] = None


@dataclass
class ManualUpdate(Record):
    """A backward pass with no optimizer: the trained tensors, watched between passes."""

    KIND: ClassVar[str] = "manual"
    backward: int
    leaves: int
    site: Optional[CodeSite]
    same_leaves: Optional[bool] = None
    delta_norm: Optional[Number] = None
    delta_dot_grad: Optional[Number] = None
    stale_grad_norm: Optional[Number] = None
    stale_grads: Optional[int] = None

    @property
    def updates_done(self) -> int:
        """Updates by hand before this backward: each sits between two backward passes."""
        return self.backward - 1


@dataclass
class NoOptimizerStep(Record):
    """Backward passes ran but no optimizer step: did the parameters move?"""

    KIND: ClassVar[str] = "no_step"
    backwards: int
    params: int
    changed: int
    max_delta: Number


@dataclass
class LrFindStart(Record):
    """The learning-rate range test began: its schedule and how it smooths the loss."""

    KIND: ClassVar[str] = "lr_find"
    min_lr: float
    max_lr: float
    steps: int
    beta: float  # of the bias-corrected exponential moving average of the loss
    divergence_factor: float  # stop once the smoothed loss exceeds this many times its minimum


@dataclass
class LrFindOptimizer(Record):
    """An optimizer at its first step under the range test, before its rates were replaced."""

    KIND: ClassVar[str] = "lr_find_optimizer"
    optimizer: int
    name: str
    site: Optional[CodeSite]
    configured: List[Optional[Number]]  # each param group's lr at the first step
    initial: List[Optional[Number]]  # each group's `initial_lr`, set by a scheduler ([] if none)
    scale: List[Optional[Number]]  # each group's rate relative to the test's (reference) rate
    reference: bool  # its first group's rate is the test's rate


@dataclass
class LrFindSteps(Record):
    """Steps of the range test, sent in batches (one line per step would cost as much as the
    rest of a small model's step)."""

    KIND: ClassVar[str] = "lr_steps"
    points: List[LrFindPoint]


# ---------------------------------------------------------------------- call events
@dataclass
class WatchStart(Record):
    """`trace --watch` began: its thresholds, and the audit interval if one was given."""

    KIND: ClassVar[str] = "watch_start"
    every: Optional[int]
    spike_factor: float
    explode_factor: float
    stall_steps: int


@dataclass
class WatchAudit(Record):
    """One audit of a watched run: the losses since the previous one, the gradient norm."""

    KIND: ClassVar[str] = "watch_audit"
    step: int
    every: int  # the interval in force (it adapts to keep the overhead small)
    loss: Optional[Number]  # the last step's
    median: Optional[Number]  # of the finite losses seen so far (the last 100)
    grad_norm: Optional[Number]  # the reference optimizer's parameters, before this step
    step_seconds: Optional[float]  # a step's mean wall time since the previous audit
    audit_seconds: float


@dataclass
class WatchAlert(Record):
    """A symptom a watched run showed, as it happened."""

    KIND: ClassVar[str] = "watch_alert"
    code: str
    step: int
    message: str
    value: Optional[Number] = None
    reference: Optional[Number] = None  # what it was compared with (a median, the first losses)
    site: Optional[CodeSite] = None


@dataclass
class CallEvent(Record):
    """A call whose order is evidence; the tracer numbers it (`seq`) and dates it."""

    seq: int = 0
    step: int = 0  # optimizer steps so far
    backward: int = 0  # backward passes so far
    site: Optional[CodeSite] = None


@dataclass
class BackwardCall(CallEvent):
    KIND: ClassVar[str] = "backward"
    grad_fn: bool = False
    requires_grad: bool = False
    is_leaf: bool = False
    grad_enabled: bool = True
    inference: bool = False
    scaled: bool = False  # the loss came from GradScaler.scale


@dataclass
class AutogradGradCall(CallEvent):
    KIND: ClassVar[str] = "autograd_grad"


@dataclass
class ZeroGradCall(CallEvent):
    KIND: ClassVar[str] = "zero_grad"
    target: str = ZeroGradTarget.OPTIMIZER
    optimizer: Optional[int] = None


@dataclass
class OptimizerStepCall(CallEvent):
    KIND: ClassVar[str] = "opt_step"
    optimizer: int = 0


@dataclass
class SchedulerStep(CallEvent):
    KIND: ClassVar[str] = "sched_step"
    scheduler: str = ""
    optimizer: int = 0
    opt_steps: int = 0
    since: int = 1  # optimizer steps since this scheduler's previous step


@dataclass
class ClipCall(CallEvent):
    KIND: ClassVar[str] = "clip"
    fn: str = CLIP_NORM
    limit: Optional[float] = None


@dataclass
class ScalerCall(CallEvent):
    KIND: ClassVar[str] = "scaler"
    method: str = ScalerMethod.STEP
    enabled: bool = True
    optimizer: Optional[int] = None
    scale: Optional[Number] = None


@dataclass
class InputFlow(CallEvent):
    """Where a model's input went in its first training pass."""

    KIND: ClassVar[str] = "flow"
    model: str = ""
    input: List[FlowEdge] = field(default_factory=list)
    normed: Dict[str, str] = field(default_factory=dict)  # weighted layer -> the norm layer it feeds


@dataclass
class FunctionalDropout(CallEvent):
    KIND: ClassVar[str] = "functional_dropout"
    state: str = DropoutState.OFF_IN_EVAL
    fn: str = ""
    module: str = ""


@dataclass
class LoaderIter(CallEvent):
    """The first iteration of a DataLoader; `site` is where it was built."""

    KIND: ClassVar[str] = "loader"
    sampler: str = ""
    order: str = SamplerOrder.UNKNOWN
    iter_site: Optional[CodeSite] = None


# ---------------------------------------------------------------------- the child's configuration
@dataclass
class LrFindSettings:
    """`trace --lr-find`: raise every rate exponentially from `min_lr` to `max_lr` over `steps`."""

    min_lr: float = 1e-7
    max_lr: float = 10.0
    steps: int = 100


@dataclass
class WatchSettings:
    """`trace --watch`: the whole run under sampled audits."""

    every: Optional[int] = None  # audit every N steps (None: chosen to keep the overhead small)
    stop_codes: List[str] = field(default_factory=list)  # end the run at the first alert of these
    spike_factor: float = 5.0  # a loss this many times its running median
    explode_factor: float = 100.0  # a gradient norm this many times the median of earlier audits
    stall_steps: int = 200  # the loss has not fallen by 1% after this many steps


@dataclass
class ChildConfig:
    """What the parent tells the traced process (in the environment, as JSON)."""

    steps: int = 2
    overfit: int = 0
    options: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    eval_wait: int = 0
    eval_wait_seconds: Optional[float] = None
    script: Optional[str] = None
    module: Optional[str] = None
    argv: List[str] = field(default_factory=list)
    lr_find: Optional[LrFindSettings] = None  # run the range test instead of the instrumented steps
    seed: Optional[int] = None  # seed random, numpy and torch before the script starts
    watch: Optional[WatchSettings] = None  # watch the whole run instead of the instrumented steps

    def to_json(self) -> str:
        return json.dumps(_plain(self))

    @classmethod
    def from_json(cls, text: str) -> ChildConfig:
        return _build(cls, json.loads(text))


# ---------------------------------------------------------------------- the pipe
def _subclasses(cls: Type[Record]) -> List[Type[Record]]:
    out = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


RECORDS: Dict[str, Type[Record]] = {c.KIND: c for c in _subclasses(Record) if c.KIND}
R = TypeVar("R")
_FIELDS: Dict[type, Tuple[Tuple[str, Any], ...]] = {}


def _fields_of(cls: type) -> Tuple[Tuple[str, Any], ...]:
    known = _FIELDS.get(cls)
    if known is None:
        hints = typing.get_type_hints(cls)
        known = _FIELDS[cls] = tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))
    return known


def _plain(value: Any) -> Any:
    """A record as JSON-able values (faster than `dataclasses.asdict`: no deep copies)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name, _ in _fields_of(type(value))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _build(tp: Any, value: Any) -> Any:
    """`value` read back from JSON as type `tp` (dataclasses, lists, dicts, Optional)."""
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin is Union:
        parts = [a for a in typing.get_args(tp) if dataclasses.is_dataclass(a)]
        return _build(parts[0], value) if parts and isinstance(value, dict) else value
    if origin is list:
        (item,) = typing.get_args(tp)
        return [_build(item, v) for v in value]
    if origin is dict:
        _, item = typing.get_args(tp)
        return {k: _build(item, v) for k, v in value.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return tp(**{name: _build(hint, value[name]) for name, hint in _fields_of(tp) if name in value})
    return value


def encode(record: Record) -> str:
    """One line for the pipe."""
    data = _plain(record)
    data["kind"] = record.KIND
    return json.dumps(data, default=str)


def decode(line: Union[str, bytes]) -> Optional[Record]:
    """The record of one line; None for a line that is not one (or of an unknown kind)."""
    try:
        data = json.loads(line)
        cls = RECORDS[data.pop("kind")]
        record: Record = _build(cls, data)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return record
