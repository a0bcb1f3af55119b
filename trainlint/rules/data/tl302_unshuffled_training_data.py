"""TL302 unshuffled-training-data: A training DataLoader does not shuffle."""

from __future__ import annotations

import re
from typing import Iterator, List, Optional, Tuple

import libcst as cst

from trainlint import fixes
from trainlint.analysis import calls as C
from trainlint.analysis import data as D
from trainlint.analysis import loops as L
from trainlint.analysis.branches import in_dead_code
from trainlint.analysis.cli_options import off_unless_given
from trainlint.analysis.facts import ClassFacts, ModuleFacts, Scope
from trainlint.analysis.names import dotted
from trainlint.analysis.origins import value_origins
from trainlint.analysis.project import Project
from trainlint.analysis.purpose import is_probe
from trainlint.analysis.scopes import enclosing, in_statements, only_assigned, scope_index
from trainlint.analysis.symbols import return_values
from trainlint.analysis.walk import walk
from trainlint.diagnostics import Diagnostic, Fix, Severity
from trainlint.fixes.builders import add_keyword, in_lambda
from trainlint.fixes.core import SAFE, UNSAFE, Locate, make_fix, parent_of
from trainlint.fixes.edits import parse_expression, source_of
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext
from trainlint.rules.data.common import cached_findings, in_module
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, refuted, unverified
from trainlint.runtime.records import LoaderIter, SamplerOrder

_PRESHUFFLE = ("shuffle", "permutation")


_SHUFFLES = ("random.shuffle", "numpy.random.shuffle", "numpy.random.permutation", "torch.randperm")


def _shuffles_itself(project: Project, origin: cst.CSTNode, scope: Scope) -> bool:
    """`TextDataset(path, shuffle=True)`: a project `Dataset` whose own code shuffles what it
    holds (`random.shuffle(lines)` when reading a split, a `torch.randperm` over its items)."""
    cls = _dataset_class(project, origin, scope)
    return cls is not None and any(
        cls.module.qualify(c.func) in _SHUFFLES for method in cls.methods.values() for c in method.calls
    )


def _dataset_class(project: Project, origin: cst.CSTNode, scope: Scope) -> Optional[ClassFacts]:
    """The project class a dataset's construction (`TextDataset(path)`) builds."""
    if not isinstance(origin, cst.Call):
        return None
    cls = project.resolve_callee(origin.func, scope)
    return cls if isinstance(cls, ClassFacts) else None


def _ignores_its_index(project: Project, origin: cst.CSTNode, scope: Scope) -> bool:
    """A project `Dataset` whose `__getitem__` never reads the index it is given (`return
    next(self.stream)` over a video stream with its own random sampler): the loader's order of
    indices is not the order of the samples, so `shuffle=True` would change nothing."""
    cls = _dataset_class(project, origin, scope)
    method = cls.methods.get("__getitem__") if cls is not None else None
    if method is None or len(method.params) < 2 or not isinstance(method.node, cst.FunctionDef):
        return False
    index = method.params[1]
    return not any(isinstance(n, cst.Name) and n.value == index for n in walk(method.node.body))


def _chain_shuffles(origin: cst.CSTNode, scope: Scope, depth: int = 0) -> bool:
    """A chain of dataset methods with a `.shuffle(...)` (or `.permutation(...)`) in it, also
    through the name the chain was bound to (`ds = Nav(...).shuffle(1000).decode("rgb")`, then
    `ds = ds.map(f)`): a streaming dataset with its own shuffle buffer."""
    node = origin
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        if node.func.attr.value in _PRESHUFFLE:
            return True
        node = node.func.value
    if isinstance(node, cst.Name) and node is not origin and depth < 3:
        defs, before = scope_index(scope).reaching(node.value, node)
        return (
            bool(defs)
            and not before
            and all(d.value is not None and _chain_shuffles(d.value, scope, depth + 1) for d in defs)
        )
    return False


def _dataset_facts(ctx: RuleContext, use: D.LoaderUse) -> str:
    """Why the loader's order cannot matter ("silent"), or how its dataset is ordered: "split"
    (a `random_split` subset: a random order fixed once), "" (stored order, unknown)."""
    project = ctx.project
    dataset = C.arg(use.call, 0, "dataset", skip_star=True)
    origins = value_origins(project, dataset, use.scope)
    if not origins:
        return ""
    batch = C.arg(use.call, 1, "batch_size", skip_star=True)
    batch_size = 1.0 if batch is None else D.number(batch)
    if batch_size is not None:
        sizes = [D.dataset_length(project, o, sc) for o, sc in origins]
        if all(n is not None and n <= batch_size for n in sizes):
            return "silent"  # one batch per epoch: its order cannot matter
    if all(D.synthetic_dataset(project, o, sc) for o, sc in origins):
        return "silent"  # random tensors: i.i.d. draws, nothing in their order
    if all(_chain_shuffles(o, sc) for o, sc in origins):
        return "silent"  # `dataset.shuffle(seed=...)`, `WebDataset(...).shuffle(1000).decode()`: random order
    if all(_shuffles_itself(project, o, sc) for o, sc in origins):
        return "silent"  # a project dataset that shuffles its own items
    if all(_ignores_its_index(project, o, sc) for o, sc in origins):
        return "silent"  # `__getitem__` returns `next(stream)`: the sampled index changes nothing
    quals = [sc.module.qualify(o.func) if isinstance(o, cst.Call) else None for o, sc in origins]
    if all((q or "").endswith("random_split") for q in quals):
        return "split"
    return ""


def _shuffle_decided_elsewhere(project: Project, use: D.LoaderUse) -> bool:
    """`**loader_kwargs` that may carry shuffle/sampler (read only where an optimizer steps), or
    `VOC(config)`: a project DataLoader subclass that passes its own `shuffle` on."""
    call = use.call
    if D.has_star_args(call) and (
        D.star_args_may_set(call, use.scope, ("shuffle", "sampler", "batch_sampler"))
        or not any(lf.has(L.STEP, L.SCALER_STEP) for lf in use.loops)
    ):
        return True
    return _own_loader_class_sets_shuffle(project, call, use.scope)


def _own_loader_class_sets_shuffle(project: Project, call: cst.Call, scope: Scope) -> bool:
    """The loader is a project subclass of `DataLoader` built without a `shuffle` argument,
    whose own `__init__` (or a project base's) decides `shuffle` and hands it on (read from a
    configuration: `shuffle = kwargs.pop("shuffle")`)."""
    if C.arg(call, None, "shuffle") is not None:
        return False
    cls = project.resolve_callee(call.func, scope)
    if not isinstance(cls, ClassFacts):
        return False
    return any(
        "shuffle" in c.module.tree.code_for_node(init.node)
        for c in project.class_family(cls)
        if (init := c.methods.get("__init__")) is not None
    )


def _tl302(ctx: RuleContext) -> List[Finding]:
    project = ctx.project
    out: List[Finding] = []
    uses = D.with_guessed(D.training_loaders(project, ctx.loops), D.named_training_loaders(project, ctx.loops))
    for use in uses:
        call = use.call
        if _shuffle_decided_elsewhere(project, use):
            continue
        shuffle = C.arg(call, 2, "shuffle", skip_star=True)
        if shuffle is not None and _assigned_false(shuffle, use.scope):
            shuffle = cst.Name("False")  # `shuffle = False` at the top of the script
        sampler = C.arg(call, 3, "sampler", skip_star=True)
        batch_sampler = C.arg(call, 4, "batch_sampler", skip_star=True)
        optional_sampler = (
            sampler is not None
            and (shuffle is None or D.is_false_or_none(shuffle))
            and _none_on_some_path(sampler, use.scope)
            and not _batch_sampler_where_none(sampler, batch_sampler, use.scope)
        )
        if any(s is not None and not D.is_false_or_none(s) for s in (sampler, batch_sampler)) and not optional_sampler:
            continue
        flag = _off_unless_flag(shuffle, use.scope, project) if shuffle is not None else None
        if shuffle is not None and not D.is_false_or_none(shuffle) and flag is None:
            continue  # shuffle=True, or a value decided at run time
        if (
            in_dead_code(use.scope, call)
            or is_probe(use.scope)
            or _reordered_by_hand(use)
            or _iterable_branch(use)
            or _poisson_sampled(use)
        ):
            # dead code, a throughput probe, a stream restarted at a random offset by hand, the
            # `IterableDataset` branch, or a loader Opacus replaces with Poisson sampling
            continue
        dataset = C.arg(call, 0, "dataset", skip_star=True)
        iterable = D.dataset_is_iterable(project, dataset, use.scope)
        if iterable:
            continue  # an IterableDataset orders its own stream; shuffle=True would raise
        if iterable is None and use.fit_call is not None and use.lightning_hook is None and not use.loops:
            continue  # seen only through `Trainer.fit`: reported when the dataset is known map-style
        order = _dataset_facts(ctx, use)
        if order == "silent":
            continue
        explicit = shuffle is not None
        once = (
            use.lightning_hook is None
            and use.fit_call is None
            and bool(use.loops)
            and all(D.single_pass(project, lf) for lf in use.loops)
        )
        if explicit and once:
            # `shuffle=False` written out for a loader read in one single pass: a deliberate
            # choice (every rank must see the same sample, a fixed benchmark), and with no
            # second epoch there is no repeated order to warn about.
            continue
        related: List[Tuple[ModuleFacts, cst.CSTNode, str]]
        if use.lightning_hook is not None:
            where = "is returned by `train_dataloader()`"
            related = [
                (use.lightning_hook.module, use.lightning_hook.node, "the Lightning hook that serves it for training")
            ]
        elif use.fit_call is not None:
            fit_scope, fit = use.fit_call
            where = "is passed to Lightning's `Trainer.fit` as the training data"
            related = [(fit_scope.module, fit, "the Trainer trains on it here")]
        elif use.named is not None:
            handed = (
                f"returned by `{use.named}()`"
                if use.named == use.scope.simple_name
                else f"handed back as `{use.named}`"
            )
            where = f"is {handed}, named for training and read by code out of sight,"
            related = []
        elif use.keyed is not None:
            key_scope, entries = use.keyed
            where = 'is the `"train"` entry of a dict of loaders (a runner trains on it)'
            related = [(key_scope.module, entries, "the dict that hands it over for training")]
        else:
            lf = use.loops[0]
            where = "is iterated by a training loop (one that calls `backward()`)"
            head = lf.node.iter if isinstance(lf.node, cst.For) else lf.node
            related = [(lf.scope.module, head, "the training loop that reads it")]
            if use.made_by is not None:
                maker_scope, maker = use.made_by
                related.insert(0, (maker_scope.module, maker, "the call that builds this training loader"))
        if optional_sampler:
            setting = "a `sampler` that is `None` on some runs (e.g. without distributed training) and " + (
                "`shuffle=False`" if explicit else "no `shuffle=True`"
            )
        elif flag is not None:
            setting = f"`shuffle` off unless the command line passes `{flag}` (a `store_true` flag)"
        else:
            setting = "`shuffle=False`" if explicit else "no `shuffle=True` and no sampler"
        unknown = (
            "" if iterable is False else " (if the dataset is an `IterableDataset`, shuffle it in the stream instead)"
        )
        if order == "split":
            effect = (
                "the `random_split` subset keeps the random order it was drawn in once, so every epoch "
                "repeats exactly the same batches; reshuffling each epoch gives the gradient noise SGD "
                "relies on."
            )
        elif once:
            effect = (
                "the samples arrive in their stored order: if that order follows the class, the source or "
                "time, consecutive batches are correlated and the gradient estimate is biased."
            )
        else:
            effect = (
                "every epoch visits the samples in the same stored order: if that order follows the class, "
                "the source or time, consecutive batches are correlated and the gradient estimate is "
                "biased, and even otherwise every epoch repeats the same batches."
            )
        out.append(
            Finding(
                "TL302",
                use.module,
                call,
                f"this DataLoader {where} but has {setting}, so {effect} Pass `shuffle=True` (or a "
                f"`sampler`, e.g. `DistributedSampler`){unknown}.",
                related=related,
                severity=None if iterable is False else Severity.INFO,
                fix_builder=None
                if _serves_others(project, use)
                else fixes.hook(fix_tl302, use.module, call, iterable is False),
            )
        )
    return out


def _poisson_sampled(use: D.LoaderUse) -> bool:
    """The loader is handed to Opacus's `privacy_engine.make_private(..., data_loader=loader)`,
    which replaces it with a Poisson-sampled loader (unless `poisson_sampling=False`)."""
    name = _assigned_name(use)
    if name is None:
        return False
    for scope in use.module.scopes:
        for c in scope.calls:
            if not (isinstance(c.func, cst.Attribute) and c.func.attr.value.startswith("make_private")):
                continue
            if not any(isinstance(a.value, cst.Name) and a.value.value == name for a in c.args):
                continue
            poisson = C.arg(c, None, "poisson_sampling")
            return poisson is None or not D.is_false_or_none(poisson)
    return False


def _assigned_name(use: D.LoaderUse) -> Optional[str]:
    parent = parent_of(use.module, use.call)
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
        return parent.targets[0].target.value
    return None


def _iterable_branch(use: D.LoaderUse) -> bool:
    """The loader is built under `if isinstance(dataset, IterableDataset):` (the Hugging Face
    Trainer's `get_train_dataloader`): shuffling is not allowed there, and the other branch
    shuffles."""
    for node in enclosing(use.scope, use.call):
        if (
            isinstance(node, cst.If)
            and isinstance(node.body, cst.IndentedBlock)
            and in_statements(use.scope, node.body.body, use.call)
        ):
            test = node.test
            if isinstance(test, cst.Call) and isinstance(test.func, cst.Name) and test.func.value == "isinstance":
                if len(test.args) == 2 and "IterableDataset" in use.module.tree.code_for_node(test.args[1].value):
                    return True
    return False


def _reordered_by_hand(use: D.LoaderUse) -> bool:
    """The loader's dataset gets a random value set on it by the code that reads it
    (`train_loader_out.dataset.offset = np.random.randint(len(...))`): a stream kept in stored
    order for locality on disk, started at a random point each epoch instead of shuffled."""
    name = _assigned_name(use)
    if name is None:
        return False
    pattern = re.compile(rf"\b{re.escape(name)}\.dataset\.\w+\s*=[^=\n][^\n]*\brand")
    return bool(pattern.search(use.module.text))


def _serves_others(project: Project, use: D.LoaderUse) -> bool:
    """The DataLoader call may build loaders that are not only read by its training loops:
    it is in a function called from several places (`make_loader(train_set)` and
    `make_loader(val_set)`), its dataset is chosen at run time (`train if is_train else
    test`), or the loader it is bound to is also iterated elsewhere (an evaluation pass over
    the training data). `shuffle=True` would reorder those too: an evaluation that lines its
    predictions up with the dataset would then be wrong, and a loader that batches samples of
    one shape together (rectangular batches) would fail. No fix is offered there."""
    if _hands_back(use) and len(project.callers(use.scope)) > 1:
        return True  # (a function that builds loaders for its callers, called from several places)
    dataset = C.arg(use.call, 0, "dataset", skip_star=True)
    if isinstance(dataset, cst.IfExp):
        return True  # `DataLoader(train if is_train else test)`
    if isinstance(dataset, cst.Name):
        defs, _ = D.scope_index(use.scope).reaching(dataset.value, use.call)
        if len(defs) > 1 or any(isinstance(d.value, cst.IfExp) for d in defs):
            return True  # one loader line for several datasets, chosen at run time
    parent = parent_of(use.module, use.call)
    if not isinstance(parent, cst.Assign) or len(parent.targets) != 1:
        return False
    target = parent.targets[0].target
    if not isinstance(target, cst.Name):
        return False
    training = {id(lf.node) for lf in use.loops}
    for node in walk(use.scope.node):
        if isinstance(node, (cst.For, cst.CompFor)) and id(node) not in training:
            if any(isinstance(n, cst.Name) and n.value == target.value for n in walk(node.iter)):
                return True
    return False


def _hands_back(use: D.LoaderUse) -> bool:
    """The loader leaves the function that builds it: returned, or built by a call that is."""
    if use.made_by is not None:
        return True
    parent = parent_of(use.module, use.call)
    names = set()
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
        names.add(parent.targets[0].target.value)
    for rv in return_values(use.scope):
        if any(n is use.call for n in walk(rv)) or (isinstance(rv, cst.Name) and rv.value in names):
            return True
    return False


def _off_unless_flag(expr: cst.BaseExpression, scope: Scope, project: Project, depth: int = 0) -> Optional[str]:
    """`shuffle=args.s` where `-s` is declared `action="store_true"` (false by default), also
    through a parameter every caller fills so: the option that turns shuffling on."""
    if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
        return off_unless_given(expr.attr.value, scope.module)
    if not isinstance(expr, cst.Name) or expr.value not in scope.params or depth > 2:
        return None
    flags = set()
    for caller, call in project.callers(scope)[:8]:
        arg = C.bind_default(call, scope, expr.value, isinstance(call.func, cst.Attribute))
        flag = _off_unless_flag(arg, caller, project, depth + 1) if arg is not None else None
        if flag is None:
            return None  # a caller passes something else (or keeps the default)
        flags.add(flag)
    return flags.pop() if len(flags) == 1 else None


def _assigned_false(expr: cst.BaseExpression, scope: Scope) -> bool:
    """`shuffle = False` written once at the top of a script, then `shuffle=shuffle`: every
    assignment of the name in sight is the literal `False` (not a value decided at run time)."""
    return only_assigned(scope, expr, lambda v: isinstance(v, cst.Name) and v.value == "False")


def _none_on_some_path(sampler: cst.BaseExpression, scope: Scope) -> bool:
    """`sampler=DistributedSampler(ds) if distributed else None` (or a name bound so): on the
    runs where it is `None`, the loader keeps the stored order unless `shuffle` says otherwise."""
    if isinstance(sampler, cst.IfExp):
        return D.is_false_or_none(sampler.body) or D.is_false_or_none(sampler.orelse)
    if isinstance(sampler, cst.Name):
        defs, _ = D.scope_index(scope).reaching(sampler.value, sampler)
        return any(
            d.how == "assign" and not d.path and (D.is_false_or_none(d.value) or _none_on_some_path(d.value, scope))
            for d in defs
        )
    return False


def _batch_sampler_where_none(
    sampler: cst.BaseExpression, batch_sampler: Optional[cst.BaseExpression], scope: Scope
) -> bool:
    """`if isinstance(sampler, BatchGeoSampler): batch_sampler = sampler; sampler = None`: every
    statement that makes the sampler `None` sits beside one that gives the loader a batch
    sampler instead (a name the loader also takes)."""
    if not isinstance(sampler, cst.Name) or not isinstance(batch_sampler, cst.Name):
        return False
    idx = D.scope_index(scope)
    defs, _ = idx.reaching(sampler.value, sampler)
    nones = [d for d in defs if d.how == "assign" and not d.path and D.is_false_or_none(d.value)]
    given = [d for d in idx.defs.get(batch_sampler.value, []) if d.how == "assign" and not D.is_false_or_none(d.value)]
    return bool(nones) and all(any(g.blocks == n.blocks for g in given) for n in nones)


def unshuffled_training_data(ctx: RuleContext) -> Iterator[Finding]:
    yield from in_module(ctx, cached_findings(ctx, _tl302))


def fix_tl302(locate: Locate, module: ModuleFacts, call: cst.Call, safe: bool) -> Optional[Fix]:
    """`shuffle=True` on a training DataLoader: added when absent (safe for a map-style
    dataset whose loader only training reads), or replacing an explicit `shuffle=False`
    (unsafe: it was written on purpose).
    With a sampler that is `None` on some runs, `shuffle=<sampler> is None`: DataLoader
    refuses `shuffle=True` beside a sampler, and the runs with one keep their order."""
    if in_lambda(module, call) or any(a.star for a in call.args):
        return None
    arg = C.arg_node(call, 2, "shuffle")
    value = "True"
    sampler = C.arg_node(call, 3, "sampler")
    if sampler is not None and not D.is_false_or_none(sampler.value):
        if dotted(sampler.value) is None:
            return None  # (a sampler built in the call: nothing to test for None)
        value = f"{source_of(module, sampler.value)} is None"
    if arg is None:
        new = add_keyword(module, call, "shuffle", value)
        return make_fix(
            module, {call: new}, SAFE if safe else UNSAFE, f"Pass `shuffle={value}` to the training DataLoader"
        )
    return make_fix(
        module,
        {arg.value: parse_expression(module, value)},
        UNSAFE,
        f"Set `shuffle={value}` on the training DataLoader",
    )


def verdict_tl302(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [
        r
        for r in c.ev.losses
        if r.call == 1 and r.target is not None and r.target.sorted is not None and (r.target.shape or [0])[0] >= 4
    ]
    # The loader the suspicion names: built at its line, or iterated there.
    loaders = [e for e in c.ev.events_of(LoaderIter) if c.at(d, e.site) or c.at(d, e.iter_site)]
    if loaders and all(e.order == SamplerOrder.RANDOM for e in loaders):
        e = loaders[0]
        return refuted(
            observed=f"the DataLoader built here draws its samples in random order (`{e.sampler}`)",
            where=c.where(e.site),
        )
    if not recs:
        return None
    r = recs[0]
    t = r.target
    assert t is not None  # (filtered above)
    if t.distinct == 1 or t.sorted:
        what = "all the same class" if t.distinct == 1 else f"sorted ({t.distinct} distinct values in order)"
        return confirmed(
            observed=f"the labels of the first batch are {what}",
            expected="a mix of labels in random order",
            where=c.where(r.site),
            batch=t.shape,
        )
    # Mixed labels do not show that the loader shuffles: data stored interleaved (0, 1, 2, 3,
    # 0, 1, ...) still comes in the same fixed order every epoch.
    fixed = [e for e in loaders if e.order == SamplerOrder.SEQUENTIAL]
    order = f"; the DataLoader built here iterates in a fixed order (`{fixed[0].sampler}`)" if fixed else ""
    return unverified(
        f"the labels of the first batch are mixed ({t.distinct} distinct values, not in order), "
        f"so the run shows no harm from the data order in it{order}"
    )


RULE = Rule(
    code="TL302",
    name="unshuffled-training-data",
    family="data",
    severity=WARNING,
    summary="A training DataLoader does not shuffle.",
    fixable=True,
    check=unshuffled_training_data,
    fixes=(fix_tl302,),
    verdict=verdict_tl302,
)
