"""Results cached per component of files, keyed by everything they depend on.

Key: trainlint's version, the effective settings, and the path and content hash of every
file in the component, context files included (so editing models.py invalidates train.py,
which imports it, also when only train.py is checked).
Entries are written atomically; an unreadable or corrupt entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import Any, Dict, List, Optional, Sequence

from trainlint import __version__
from trainlint.config import Settings

ENV_VAR = "TRAINLINT_CACHE_DIR"
DEFAULT_DIR = ".trainlint_cache"
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by trainlint.\n"


def default_dir(settings: Settings) -> str:
    return os.environ.get(ENV_VAR) or os.path.join(settings.root or ".", DEFAULT_DIR)


def settings_fingerprint(settings: Settings) -> str:
    data = {
        "enabled": sorted(settings.enabled_codes()),
        "per_file_ignores": settings.per_file_ignores,
        "options": {code: settings.rule_options(code) for code in sorted(settings.enabled_codes())},
        "root": os.path.abspath(settings.root or "."),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _code_fingerprint() -> str:
    """Size and mtime of trainlint's own modules, so an edited checkout never reads stale entries."""
    root = os.path.dirname(os.path.abspath(__file__))
    h = hashlib.sha256()
    for dirpath, dirnames, names in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for n in sorted(names):
            if n.endswith(".py"):
                st = os.stat(os.path.join(dirpath, n))
                h.update(f"{dirpath}/{n}:{st.st_size}:{st.st_mtime_ns}\0".encode())
    return h.hexdigest()


_CODE = _code_fingerprint()


def component_key(
    paths: Sequence[str], contents: Sequence[bytes], fingerprint: str, report: Optional[Sequence[str]] = None
) -> str:
    """`report`: the files reported on when the others are context files (None: all); the
    context files' content is part of the key like the others'."""
    h = hashlib.sha256()
    h.update(f"trainlint {__version__}\0{_CODE}\0{fingerprint}\0".encode())
    reported = None if report is None else set(report)
    for path, data in sorted(zip(paths, contents)):
        mark = b"" if reported is None or path in reported else b"context:"
        h.update(mark + path.encode("utf-8", "surrogateescape") + b"\0")
        h.update(hashlib.sha256(data).digest())
    return h.hexdigest()


class Cache:
    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._ready = False

    def _entry(self, key: str) -> str:
        return os.path.join(self.directory, __version__, key[:2], key + ".json")

    def get(self, key: str) -> Optional[Dict[str, Any]]:
        try:
            with open(self._entry(key), encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        return data

    def put(self, key: str, diagnostics: List[Dict[str, Any]], suppressed: List[Dict[str, Any]]) -> None:
        try:
            self._prepare()
            target = self._entry(key)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump({"key": key, "diagnostics": diagnostics, "suppressed": suppressed}, fh)
                os.replace(tmp, target)
            except BaseException:
                with _quiet():
                    os.unlink(tmp)
                raise
        except OSError:
            pass  # a read-only or full disk only costs speed

    def _prepare(self) -> None:
        if self._ready:
            return
        os.makedirs(self.directory, exist_ok=True)
        for name, text in (("CACHEDIR.TAG", _TAG), (".gitignore", "*\n")):
            path = os.path.join(self.directory, name)
            if not os.path.exists(path):
                with _quiet(), open(path, "w", encoding="utf-8") as fh:
                    fh.write(text)
        self._ready = True


class _quiet:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return exc[0] is not None and issubclass(exc[0], OSError)  # type: ignore[arg-type]
