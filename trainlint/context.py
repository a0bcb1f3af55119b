"""Context files: the project files a checked file is analysed with, though not reported on.

Cross-file findings (a softmax in models.py fed to a `CrossEntropyLoss` in train.py, a helper
whose arguments come from its callers) need the files linked to the checked file by imports
(its import component, see `plan.py`). `trainlint check train.py` (pre-commit
passes only the changed files) therefore also loads, as *context*, the project files linked
to train.py by imports in either direction: the files it imports, the files that import it,
theirs, and so on. They are parsed and analysed with the checked files, but only the files
asked for are reported on (findings, syntax errors, rule failures), and `--fix` never edits
them; a finding located in a context file is reported when one of its related locations is
in a checked file (the loss in train.py of a softmax in the checked models.py). So a file has
the same findings whether it is checked alone, with others, or in a whole-repository run.

Finding them never imports or runs anything:

1. The project root of each checked file: the nearest folder above it holding
   `pyproject.toml`, `setup.py`, `setup.cfg`, `trainlint.toml`, `.git` or `.hg`; without
   one, the current folder if the file is below it (the folder above the current folder's
   package chain, when the current folder is a package), else the folder above the top of
   its package chain (folders with `__init__.py`).
2. The project's `*.py` and `*.ipynb` files, skipping the configured excludes (virtual
   environments, `build`, ...), nearest folders first: at most `MAX_SCAN_FILES` files in
   `MAX_SCAN_FOLDERS` folders, and `MAX_SCAN_BYTES` bytes read.
3. Their imports, read with a regular expression (`analysis/depgraph.py`; only in files
   whose bytes contain `import`; a notebook's through its code cells), resolved the way
   Python would find the modules: relative imports against the file's package; absolute ones
   under the file's folder, the folder holding its top package, the project root, or
   `src/`. A name found in none of these (a `sys.path` insertion, a namespace package) is
   linked to the project module whose dotted name (from its path, as the analysis names
   modules) ends with it, when there is exactly one and the name is not one of the standard
   library's. The import components of the plan are made of the same links
   (`import_links`), so a file is analysed with the same files however it is selected.
4. From the checked files, the files linked by these imports (a file's imports first, then
   the files importing it), breadth first, until `MAX_CONTEXT_FILES` files or
   `MAX_CONTEXT_BYTES` bytes of context. Past these bounds (a repository whose hundreds of
   files all import each other) the farthest files are left out, and the findings of the
   checked files can then differ from those of a whole-repository run.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from trainlint.analysis.depgraph import import_statements
from trainlint.analysis.project import module_name_for
from trainlint.config import Settings
from trainlint.source import read_bytes_or_none

ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "trainlint.toml", ".git", ".hg")
SUFFIXES = (".py", ".ipynb")
_INSTALLED = frozenset({"site-packages", "dist-packages"})
# How much of a project is looked at to find the files linked to the checked ones...
MAX_SCAN_FILES = 3000
MAX_SCAN_BYTES = 32 << 20
MAX_SCAN_FOLDERS = 10000
# ... and how much of it is loaded as context (parsing costs about a second per MiB).
MAX_CONTEXT_FILES = 256
MAX_CONTEXT_BYTES = 4 << 20
_STDLIB: frozenset = getattr(sys, "stdlib_module_names", frozenset())


@dataclass
class ContextFiles:
    paths: List[str] = field(default_factory=list)
    contents: List[Optional[bytes]] = field(default_factory=list)
    truncated: bool = False  # some linked files were left out (the bounds above)
    # Those of `paths` that the checked files import, directly or not (what running them loads).
    imported: List[str] = field(default_factory=list)


def project_root(path: str) -> str:
    """The absolute project folder of a file (see the module's docstring)."""
    start = os.path.dirname(os.path.abspath(path))
    here = start
    while True:
        if os.path.basename(here) in _INSTALLED:
            return _package_base(start)  # an installed package is its own project, not the venv's owner
        if any(os.path.exists(os.path.join(here, m)) for m in ROOT_MARKERS):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    base = _package_base(start)
    cwd = os.getcwd()
    if os.path.dirname(cwd) != cwd and (start == cwd or start.startswith(cwd + os.sep)):
        # The folder trainlint runs in (where `python` would run the file too), or the folder
        # above its package chain when it is itself a package: the same root for every file
        # below it, whether its own folder is a package or not.
        return _package_base(cwd)
    return base


def _package_base(folder: str) -> str:
    """The folder above the top package holding `folder` (`folder` itself outside packages)."""
    here = folder
    while os.path.isfile(os.path.join(here, "__init__.py")) and os.path.dirname(here) != here:
        here = os.path.dirname(here)
    return here


def find_context(
    files: Sequence[str], contents: Sequence[Optional[bytes]], settings: Settings, reuse_reads: bool = False
) -> ContextFiles:
    """The context files of the checked `files` (whose bytes are `contents`). `reuse_reads`
    keeps the bytes read, by path, size and modification time, for the next call (an editor
    checks the same project on every pause in typing)."""
    out = ContextFiles()
    by_root: Dict[str, List[int]] = {}
    for i, p in enumerate(files):
        by_root.setdefault(project_root(p), []).append(i)
    taken: Set[str] = {_real(p) for p in files}
    budget = [MAX_CONTEXT_FILES, MAX_CONTEXT_BYTES]  # shared by every project
    for root, members in by_root.items():
        project = _Project(
            root,
            [files[i] for i in members],
            [contents[i] for i in members],
            taken,
            settings,
            _read_reusing if reuse_reads else read_bytes_or_none,
        )
        if not project.extra:
            continue  # every project file is checked already (`trainlint check .`)
        chosen, complete = project.linked(budget)
        imported = project.imported(set(chosen))
        for j in chosen:
            data = project.data[j]
            if data is None:
                continue  # unreadable: it would bring no facts (and is not reported on)
            taken.add(_real(project.abs[j]))
            out.paths.append(project.display[j])
            out.contents.append(data)
            if j in imported:
                out.imported.append(project.display[j])
        out.truncated = out.truncated or not complete
    return out


def import_links(paths: Sequence[str], contents: Sequence[Optional[bytes]]) -> List[Set[int]]:
    """For each of `paths` (whose bytes are `contents`), the indices of those of `paths` it
    imports, resolved as above among these files only (no other file is looked for): the
    links of the import components (`plan.py`). Files of different projects are never linked."""
    out: List[Set[int]] = [set() for _ in paths]
    roots: Dict[str, str] = {}  # folder -> its project root
    by_root: Dict[str, List[int]] = {}
    for i, p in enumerate(paths):
        folder = os.path.dirname(os.path.abspath(p))
        root = roots.get(folder)
        if root is None:
            root = roots[folder] = project_root(p)
        by_root.setdefault(root, []).append(i)
    for root, members in by_root.items():
        project = _Project(root, [paths[i] for i in members], [contents[i] for i in members], set(), None)
        for j, i in enumerate(members):
            out[i] = {members[k] for k in project.imports_of(j)}
    return out


_READS: Dict[str, Tuple[int, int, Optional[bytes]]] = {}  # path -> (size, mtime_ns, bytes)


def _read_reusing(path: str) -> Optional[bytes]:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    hit = _READS.get(path)
    if hit is not None and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
        return hit[2]
    data = read_bytes_or_none(path)
    _READS[path] = (st.st_size, st.st_mtime_ns, data)
    return data


def scan_text(path: str, data: Optional[bytes]) -> str:
    """The text imports are read from: a notebook's code cells, a file's decoded bytes."""
    if data is None:
        return ""
    if path.endswith(".ipynb"):
        try:
            from trainlint.notebook import notebook_source

            return notebook_source(data)[0]
        except Exception:
            return ""
    return data.decode("utf-8", "replace")


def _real(path: str) -> str:
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return os.path.abspath(path)


class _Project:
    """One project's files: the checked ones first (indices below `asked`), then the others."""

    def __init__(
        self,
        root: str,
        files: List[str],
        contents: List[Optional[bytes]],
        taken: Set[str],
        settings: Optional[Settings],
        read: Callable[[str], Optional[bytes]] = read_bytes_or_none,
    ) -> None:
        """`settings`: the excludes of the walk listing the project's other files; None: no
        walk, `files` are the only files known."""
        self.root = root
        self.read = read
        self.asked = len(files)
        try:
            near = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in files])
        except ValueError:  # on different drives
            near = root
        if not (near == root or near.startswith(root.rstrip(os.sep) + os.sep)):
            near = root
        listed = _listing(root, near, settings, MAX_SCAN_FILES) if settings is not None else []
        asked_at = {_real(p): j for j, p in enumerate(files)}
        # A checked file the walk reaches under another name (a symbolic link): the same file.
        same = {p: asked_at[r] for p in listed for r in (_real(p),) if r in asked_at}
        self.extra = [p for p in listed if p not in same and _real(p) not in taken]
        absolute = all(os.path.isabs(p) for p in files)
        self.abs = [os.path.abspath(p) for p in files] + self.extra
        # Paths as a run over the whole folder names them (they show in related locations).
        self.display = list(files) + [p if absolute else _relative(p) for p in self.extra]
        self.data: List[Optional[bytes]] = list(contents)
        scanned = 0
        for p in self.extra:
            # Past the scan budget a file is not read: it can still be imported (and is read
            # then), but its own imports are not seen.
            d = read(p) if scanned < MAX_SCAN_BYTES else None
            scanned += len(d or b"")
            self.data.append(d)
        self.index = {p: j for j, p in enumerate(self.abs)}
        self.index.update(same)
        self.folders: Set[str] = set()  # every folder holding a project file (packages too)
        for p in self.index:
            folder = os.path.dirname(p)
            while folder not in self.folders and len(folder) >= len(root):
                self.folders.add(folder)
                parent = os.path.dirname(folder)
                if parent == folder:
                    break
                folder = parent
        self._bases_of: Dict[str, List[str]] = {}
        self._imports: Dict[int, Set[int]] = {}
        self.by_name: Dict[str, List[int]] = {}  # dotted module name (as `module_name_for`) -> files
        for j, p in enumerate(self.display):
            name = module_name_for(p)
            if name:
                self.by_name.setdefault(name, []).append(j)

    # ------------------------------------------------------------------ resolution

    def imports_of(self, j: int) -> Set[int]:
        """The project files file `j` imports (and the packages they are in)."""
        found = self._imports.get(j)
        if found is None:
            found = self._imports[j] = self._read_imports(j)
        return found

    def _read_imports(self, j: int) -> Set[int]:
        data = self.data[j]
        if data is None or b"import" not in data:
            return set()
        text = scan_text(self.display[j], data)
        here = os.path.dirname(self.abs[j])
        out: Set[int] = set()
        for level, base, names in import_statements(text):
            if level:
                folder = here
                for _ in range(level - 1):
                    folder = os.path.dirname(folder)
                dotted = [f"{base}.{n}" if base else n for n in names] + ([base] if base else [])
                for d in dotted:
                    out.update(self._under(folder, d))
                init = self.index.get(os.path.join(folder, "__init__.py"))
                if init is not None:
                    out.add(init)  # the package itself, as the import components link it
                continue
            dotted = [base] + [f"{base}.{n}" for n in names] if names else [base]
            top = base.split(".")[0]
            where = next((b for b in self._bases(here) if self._has_top(b, top)), None)
            for d in dotted:
                if where is not None:
                    out.update(self._under(where, d))
                else:
                    # Not where Python would look (a `sys.path` insertion): the one project
                    # module of that name, if there is exactly one. A standard library name
                    # (`random`, `logging`) is what Python finds, whatever project file ends so.
                    cands = self.by_suffix(d) if top not in _STDLIB else []
                    if len(cands) == 1:
                        out.update(cands)
        out.discard(j)
        return out

    def _bases(self, here: str) -> List[str]:
        """Where an absolute import from a file in `here` is looked up, in order."""
        found = self._bases_of.get(here)
        if found is None:
            found = list(dict.fromkeys([here, _package_base(here), self.root, os.path.join(self.root, "src")]))
            self._bases_of[here] = found
        return found

    def _has_top(self, base: str, top: str) -> bool:
        path = base + os.sep + top
        return path + ".py" in self.index or path in self.folders

    def _under(self, base: str, dotted: str) -> Iterator[int]:
        """The files of module `dotted` under `base` and of the packages it is in."""
        stem = base
        for part in dotted.split("."):
            if not part:
                continue
            stem = stem + os.sep + part
            if stem not in self.folders and stem + ".py" not in self.index:
                return  # nothing deeper can exist
            for cand in (stem + ".py", stem + os.sep + "__init__.py"):
                j = self.index.get(cand)
                if j is not None:
                    yield j

    def by_suffix(self, dotted: str) -> List[int]:
        if not hasattr(self, "_suffix"):
            self._suffix: Dict[str, List[int]] = {}
            for name, js in self.by_name.items():
                parts = name.split(".")
                for k in range(len(parts)):
                    self._suffix.setdefault(".".join(parts[k:]), []).extend(js)
        return self._suffix.get(dotted, [])

    # ------------------------------------------------------------------ the walk

    def imported(self, among: Set[int]) -> Set[int]:
        """The files of `among` that the checked files import, directly or through each other."""
        seen: Set[int] = set()
        queue = deque(range(self.asked))
        while queue:
            for j in self.imports_of(queue.popleft()):
                if j in among and j not in seen:
                    seen.add(j)
                    queue.append(j)
        return seen

    def linked(self, budget: List[int]) -> Tuple[List[int], bool]:
        """Indices of the files linked to the checked ones by imports, breadth first (a file's
        imports before its importers), within `budget` [files, bytes] (spent here); and
        whether every linked file fitted."""
        forward = [sorted(self.imports_of(j)) for j in range(len(self.abs))]
        backward: List[List[int]] = [[] for _ in self.abs]
        for i, targets in enumerate(forward):
            for j in targets:
                backward[j].append(i)
        seen = set(range(self.asked))
        queue = deque(range(self.asked))
        out: List[int] = []
        complete = True
        while queue:
            i = queue.popleft()
            for j in (*forward[i], *backward[i]):
                if j in seen:
                    continue
                seen.add(j)
                if budget[0] <= 0:
                    return out, False
                if self.data[j] is None:
                    self.data[j] = self.read(self.abs[j])
                n = len(self.data[j] or b"")
                if n > budget[1]:
                    complete = False  # too big for what is left; smaller files may still fit
                    continue
                budget[0] -= 1
                budget[1] -= n
                out.append(j)
                queue.append(j)
        return out, complete


def _relative(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path


# ---------------------------------------------------------------------------- listing


def _listing(root: str, near: str, settings: Settings, limit: int) -> List[str]:
    """Absolute paths of the project's Python files and notebooks under `root`: those under
    `near` first, then those of each folder above it, up to `root`; at most `limit`."""
    out: List[str] = []
    done: Optional[str] = None
    here = near
    check_files = _files_may_be_excluded(settings)
    folders = [MAX_SCAN_FOLDERS]
    while True:
        _walk(here, done, settings, check_files, out, limit, folders)
        if len(out) >= limit or folders[0] <= 0 or here == root:
            break
        parent = os.path.dirname(here)
        if parent == here:
            break
        done, here = here, parent
    return out[:limit]


def _files_may_be_excluded(settings: Settings) -> bool:
    """Whether an exclude pattern can match a file's name, not only a folder (the default
    patterns are folder names: checking every file against them would cost more than the
    walk)."""
    return any(
        any(c in p for c in "*?[") or p.rstrip("/").endswith((".py", ".ipynb", ".pyi"))
        for p in [*settings.exclude, *settings.extend_exclude]
    )


def _walk(
    top: str, skip: Optional[str], settings: Settings, check_files: bool, out: List[str], limit: int, folders: List[int]
) -> None:
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        folders[0] -= 1
        if folders[0] < 0:
            return
        dirnames[:] = sorted(
            d
            for d in dirnames
            if os.path.join(dirpath, d) != skip and not settings.is_excluded(os.path.join(dirpath, d))
        )
        for name in sorted(filenames):
            if name.endswith(SUFFIXES):
                full = os.path.join(dirpath, name)
                if not check_files or not settings.is_excluded(full):
                    out.append(full)
                    if len(out) >= limit:
                        return
