"""The pipe's schema: every record survives encode/decode unchanged, and a bad line is no record."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Union

import pytest

from trainlint.runtime import records
from trainlint.runtime.records import RECORDS, ChildConfig, CodeSite, Record, decode, encode


def _sample(tp: Any, depth: int = 0) -> Any:
    """A value of type `tp` with every optional part filled in."""
    origin = typing.get_origin(tp)
    if origin is Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _sample(args[-1], depth)  # Number: its str form, the spelled-out NaN
    if origin is list:
        return [_sample(typing.get_args(tp)[0], depth + 1)]
    if origin is dict:
        return {"key": _sample(typing.get_args(tp)[1], depth + 1)}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return tp(**{f.name: _sample(hints[f.name], depth + 1) for f in dataclasses.fields(tp)})
    return {int: 3, float: 0.25, str: "nan", bool: True}.get(tp, 7)


@pytest.mark.parametrize("kind", sorted(RECORDS))
def test_every_record_round_trips(kind: str) -> None:
    record = _sample(RECORDS[kind])
    assert decode(encode(record)) == record


def test_every_record_class_has_its_own_kind() -> None:
    classes = [c for c in vars(records).values() if isinstance(c, type) and issubclass(c, Record) and c.KIND]
    assert sorted(c.KIND for c in classes) == sorted(RECORDS)


def test_defaults_and_nesting_come_back_typed() -> None:
    rec = records.RunExit(status=records.ExitStatus.ERROR, frames=[records.TracebackFrame("/a.py", 3, "f", "x()")])
    back = decode(encode(rec))
    assert isinstance(back, records.RunExit) and isinstance(back.frames[0], records.TracebackFrame)
    assert back.code is None and back.after_stop is None
    event = decode(encode(records.ClipCall(seq=4, site=CodeSite("/a.py", 9), limit=1.0)))
    assert isinstance(event, records.ClipCall) and event.site == CodeSite("/a.py", 9) and event.seq == 4


@pytest.mark.parametrize(
    "line",
    ["", "not json", "[1, 2]", '{"no": "kind"}', '{"kind": "no-such-record"}', '{"kind": "stop", "reason": "steps"}'],
)
def test_a_line_that_is_not_a_record_is_dropped(line: str) -> None:
    assert decode(line) is None


def test_child_config_round_trips() -> None:
    config = ChildConfig(steps=3, options={"TL902": {"ratio": 50.0}}, eval_wait_seconds=1.5, argv=["--x"])
    assert ChildConfig.from_json(config.to_json()) == config
    assert ChildConfig.from_json("{}") == ChildConfig()


def test_no_record_has_a_field_the_wire_format_uses_for_its_kind():
    import dataclasses

    from trainlint.runtime.records import RECORDS

    clashing = [cls.__name__ for cls in RECORDS.values() if "kind" in {f.name for f in dataclasses.fields(cls)}]
    assert clashing == []
