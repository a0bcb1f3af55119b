"""Find the user's line of code behind a hook or wrapper call.

A hook fires deep inside torch; the finding must point at the user's `loss_fn(out, y)` or
`nn.Linear(...)`. We walk the Python stack and skip frames that belong to libraries (torch,
trainlint, the standard library, site-packages). Decisions are cached per code object so the walk
costs a few dict look-ups per frame.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import traceback
from types import CodeType, FrameType
from typing import Any, Dict, List, Optional, Tuple

from trainlint.runtime.records import CodeSite, TracebackFrame

Site = Tuple[str, int]  # (absolute path, 1-based line)

_library_roots: Optional[Tuple[str, ...]] = None
_is_library: Dict[CodeType, bool] = {}
# The working folder when tracing began: the main script's code objects carry the path as given
# on the command line, which must be resolved against this even after the script calls chdir.
_start_cwd: str = os.getcwd()


def set_start_cwd(path: str) -> None:
    global _start_cwd
    _start_cwd = path


def reset_roots() -> None:
    """Find the library folders again (torch may have been imported since)."""
    global _library_roots
    _library_roots = None


def _roots() -> Tuple[str, ...]:
    global _library_roots
    if _library_roots is None:
        roots = set()
        paths = sysconfig.get_paths()
        for key in ("stdlib", "platstdlib", "purelib", "platlib"):
            if paths.get(key):
                roots.add(os.path.realpath(paths[key]))
        here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # trainlint/
        roots.add(os.path.realpath(here))
        torch_mod = sys.modules.get("torch")
        if torch_mod is not None and getattr(torch_mod, "__file__", None):
            roots.add(os.path.realpath(os.path.dirname(torch_mod.__file__ or "")))
        _library_roots = tuple(r.rstrip(os.sep) + os.sep for r in roots)
    return _library_roots


def absolute(filename: str) -> str:
    if os.path.isabs(filename):
        return filename
    return os.path.normpath(os.path.join(_start_cwd, filename))


def is_library_code(code: CodeType) -> bool:
    known = _is_library.get(code)
    if known is None:
        name = code.co_filename
        if name.startswith("<"):
            # <frozen runpy>, <string>: interpreter machinery, never the user's line.
            known = not name.startswith("<ipython-input") and not name.startswith("<stdin")
        else:
            real = os.path.realpath(absolute(name))
            known = real.startswith(_roots())
        _is_library[code] = known
    return known


def is_library_path(filename: str) -> bool:
    if not filename or filename.startswith("<"):
        return True
    return os.path.realpath(absolute(filename)).startswith(_roots())


def user_site(skip_self_of: Any = None, start: Optional[FrameType] = None) -> Optional[Site]:
    """The innermost frame of user code, as (absolute path, line).

    `skip_self_of`: skip frames whose `self` is this object, so that a user class's own
    `__init__` calling `super().__init__()` is passed over for the line that built the object.
    """
    frame: Optional[FrameType] = start if start is not None else sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if not is_library_code(code):
            if skip_self_of is not None and code.co_argcount and code.co_varnames[0] == "self":
                if frame.f_locals.get("self") is skip_self_of:
                    frame = frame.f_back
                    continue
            return (absolute(code.co_filename), frame.f_lineno or code.co_firstlineno)
        frame = frame.f_back
    return None


def code_site(site: Optional[Site]) -> Optional[CodeSite]:
    if site is None:
        return None
    return CodeSite(site[0], site[1])


def frames_of(tb: Any) -> List[TracebackFrame]:
    """The user's frames of a traceback, innermost last (at most 8)."""
    out = []
    for frame in traceback.extract_tb(tb):
        if frame.filename.startswith("<") or is_library_path(frame.filename):
            continue
        out.append(
            TracebackFrame(
                path=absolute(frame.filename),
                line=frame.lineno,  # type: ignore[arg-type]  # None only for synthetic frames
                function=frame.name,
                code=(frame.line or "").strip()[:200],
            )
        )
    return out[-8:]
