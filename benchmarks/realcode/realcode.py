"""Real-code accuracy benchmark for trainlint.

Two measurements on public PyTorch training code, pinned by commit:

* the clean set (`clean.toml`): repositories believed correct. Every finding is
  judged by a person in `clean_verdicts.csv` (true or false positive); the score
  is precision and false findings per 10k lines.
* the bug set (`bugs/*.toml`): real fix commits. The linter should report the
  bug's rule on the buggy file (the fix commit's first parent) and go quiet on
  the fixed one; the score is recall.

No fetched code lives in this repository: `materialize` writes the files from
local snapshots (bare git directories, one per repository) into a folder
outside it (default /tmp/realcode).

    python benchmarks/realcode/realcode.py check-manifest
    python benchmarks/realcode/realcode.py materialize [--out DIR] [--mirror DIR]
    python benchmarks/realcode/realcode.py score [--out DIR] [--json FILE] [--trainlint CMD]
    python benchmarks/realcode/realcode.py fixes [--out DIR] [--diffs DIR] [--trainlint CMD]

Standard library only; trainlint runs as a subprocess.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python < 3.11 only
    import tomli as tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
CLEAN_TOML = os.path.join(HERE, "clean.toml")
BUGS_DIR = os.path.join(HERE, "bugs")
VERDICTS_CSV = os.path.join(HERE, "clean_verdicts.csv")
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = "/tmp/realcode"
# A bug's whole repository is written up to this many Python files.
MAX_REPO_FILES = 3000
DEFAULT_MIRROR = "/work/.mirror"
HEX40 = re.compile(r"^[0-9a-f]{40}$")
REPO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
RULE_CODE = re.compile(r"^TL\d{3}$")
VERDICT_HEADER = ["repo", "path", "line", "code", "verdict", "reason"]


# --------------------------------------------------------------------------- manifests


@dataclass
class CleanRepo:
    name: str
    commit: str
    paths: List[str]
    why: str

    @property
    def folder(self) -> str:
        return self.name.replace("/", "+")


@dataclass
class Bug:
    id: str
    repo: str
    fix_commit: str
    path: str
    rule: str
    source: str
    summary: str
    buggy_path: Optional[str] = None
    context: List[str] = field(default_factory=list)
    lines: List[int] = field(default_factory=list)
    window: int = 10
    file: str = ""

    @property
    def old_path(self) -> str:
        return self.buggy_path or self.path


def _load_toml(path: str) -> Dict[str, Any]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def load_clean(path: str = CLEAN_TOML) -> List[CleanRepo]:
    data = _load_toml(path)
    return [
        CleanRepo(
            name=str(e.get("name", "")),
            commit=str(e.get("commit", "")),
            paths=[str(p) for p in e.get("paths", [])],
            why=str(e.get("why", "")),
        )
        for e in data.get("repo", [])
    ]


def bug_files(bugs_dir: str = BUGS_DIR, only: Optional[Sequence[str]] = None) -> List[str]:
    """The bug manifests; `only` keeps those whose name without `.toml` is listed."""
    files = sorted(glob.glob(os.path.join(bugs_dir, "*.toml")))
    if only:
        files = [f for f in files if os.path.basename(f)[: -len(".toml")] in only]
    return files


def unknown_manifests(only: Sequence[str], bugs_dir: str = BUGS_DIR) -> List[str]:
    known = {os.path.basename(f)[: -len(".toml")] for f in bug_files(bugs_dir)}
    return [name for name in only if name not in known]


def load_bugs(bugs_dir: str = BUGS_DIR, only: Optional[Sequence[str]] = None) -> List[Bug]:
    bugs: List[Bug] = []
    for path in bug_files(bugs_dir, only):
        for e in _load_toml(path).get("bug", []):
            bugs.append(
                Bug(
                    id=str(e.get("id", "")),
                    repo=str(e.get("repo", "")),
                    fix_commit=str(e.get("fix_commit", "")),
                    path=str(e.get("path", "")),
                    rule=str(e.get("rule", "")),
                    source=str(e.get("source", "")),
                    summary=str(e.get("summary", "")),
                    buggy_path=e.get("buggy_path"),
                    context=[str(c) for c in e.get("context", [])],
                    lines=[int(n) for n in e.get("lines", [])],
                    window=int(e.get("window", 10)),
                    file=os.path.basename(path),
                )
            )
    return bugs


def _check_rel_path(p: Any) -> bool:
    return isinstance(p, str) and p != "" and not p.startswith("/") and ".." not in p.split("/")


def _field_problems(where: str, entry: Dict[str, Any], allowed: set, required: set) -> List[str]:
    return [f"{where}: unknown field {k!r}" for k in sorted(set(entry) - allowed)] + [
        f"{where}: missing field {k!r}" for k in sorted(required - set(entry))
    ]


def check_manifest(clean_path: str = CLEAN_TOML, bugs_dir: str = BUGS_DIR) -> List[str]:
    """Problems found in the manifests (an empty list when they are valid)."""
    problems: List[str] = []
    try:
        data = _load_toml(clean_path)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return [f"{clean_path}: cannot read: {exc}"]
    seen: set = set()
    allowed = {"name", "commit", "paths", "why"}
    for i, e in enumerate(data.get("repo", [])):
        where = f"clean.toml repo #{i + 1} ({e.get('name', '?')})"
        problems += _field_problems(where, e, allowed, allowed)
        name = e.get("name", "")
        if not isinstance(name, str) or not REPO_NAME.match(name):
            problems.append(f"{where}: name must be 'owner/name'")
        elif name in seen:
            problems.append(f"{where}: duplicate repository")
        seen.add(name)
        if not isinstance(e.get("commit"), str) or not HEX40.match(e.get("commit", "")):
            problems.append(f"{where}: commit must be 40 lowercase hex digits")
        paths = e.get("paths")
        if not isinstance(paths, list) or not paths or not all(_check_rel_path(p) for p in paths):
            problems.append(f"{where}: paths must be a non-empty list of relative paths")
        if not isinstance(e.get("why"), str) or not e.get("why", "").strip():
            problems.append(f"{where}: why must be a non-empty string")
    if not data.get("repo"):
        problems.append("clean.toml: no [[repo]] entries")
    return problems + _bug_manifest_problems(bugs_dir)


_BUG_FIELDS = {
    "id",
    "repo",
    "fix_commit",
    "path",
    "buggy_path",
    "context",
    "rule",
    "lines",
    "window",
    "source",
    "summary",
}
_BUG_REQUIRED = {"id", "repo", "fix_commit", "path", "rule", "source", "summary"}


def _bug_manifest_problems(bugs_dir: str) -> List[str]:
    problems: List[str] = []
    ids: Dict[str, str] = {}
    for path in bug_files(bugs_dir):
        fname = os.path.basename(path)
        try:
            bdata = _load_toml(path)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            problems.append(f"bugs/{fname}: cannot read: {exc}")
            continue
        for i, e in enumerate(bdata.get("bug", [])):
            where = f"bugs/{fname} bug #{i + 1} ({e.get('id', '?')})"
            problems += _field_problems(where, e, _BUG_FIELDS, _BUG_REQUIRED)
            bid = e.get("id", "")
            if not isinstance(bid, str) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", bid):
                problems.append(f"{where}: id must be a short slug")
            elif bid in ids:
                problems.append(f"{where}: id also used in bugs/{ids[bid]}")
            else:
                ids[bid] = fname
            problems += _bug_entry_problems(where, e)
    return problems


def _bug_entry_problems(where: str, e: Dict[str, Any]) -> List[str]:
    problems: List[str] = []
    if not isinstance(e.get("repo"), str) or not REPO_NAME.match(e.get("repo", "")):
        problems.append(f"{where}: repo must be 'owner/name'")
    if not isinstance(e.get("fix_commit"), str) or not HEX40.match(e.get("fix_commit", "")):
        problems.append(f"{where}: fix_commit must be 40 lowercase hex digits")
    for key in ("path", "buggy_path"):
        if key in e and not _check_rel_path(e[key]):
            problems.append(f"{where}: {key} must be a relative path")
    ctx = e.get("context", [])
    if not isinstance(ctx, list) or not all(_check_rel_path(c) for c in ctx):
        problems.append(f"{where}: context must be a list of relative paths")
    if not isinstance(e.get("rule"), str) or not RULE_CODE.match(e.get("rule", "")):
        problems.append(f"{where}: rule must be a catalog code like TL101")
    lines = e.get("lines", [])
    if not isinstance(lines, list) or not all(isinstance(n, int) and n > 0 for n in lines):
        problems.append(f"{where}: lines must be a list of positive integers")
    if "window" in e and (not isinstance(e["window"], int) or e["window"] < 0):
        problems.append(f"{where}: window must be a non-negative integer")
    for key in ("source", "summary"):
        if key in e and (not isinstance(e[key], str) or not e[key].strip()):
            problems.append(f"{where}: {key} must be a non-empty string")
    return problems


# --------------------------------------------------------------------------- snapshots


class Mirror:
    """Git snapshots laid out as MIRROR/<owner>+<name>/repo (bare, or a checkout's .git)."""

    def __init__(self, root: str) -> None:
        self.root = root

    def git_dir(self, repo: str) -> Optional[str]:
        base = os.path.join(self.root, repo.replace("/", "+"))
        for cand in (os.path.join(base, "repo"), os.path.join(base, "repo", ".git"), base):
            if os.path.isfile(os.path.join(cand, "HEAD")) and os.path.isdir(os.path.join(cand, "objects")):
                return cand
        return None

    @staticmethod
    def git(gd: str, *args: str, data: Optional[bytes] = None) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "--git-dir", gd, *args], input=data, capture_output=True)

    def has_commit(self, gd: str, commit: str) -> bool:
        return self.git(gd, "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0

    def parent(self, gd: str, commit: str) -> Optional[str]:
        res = self.git(gd, "rev-parse", "--verify", "--quiet", f"{commit}^1")
        return res.stdout.decode().strip() if res.returncode == 0 else None

    def list_files(self, gd: str, commit: str, paths: Sequence[str]) -> Tuple[List[str], List[str]]:
        """(files to write, requested paths that matched nothing). Folders give their *.py files."""
        res = self.git(gd, "ls-tree", "-r", "-z", commit)
        # "<mode> <type> <sha>\t<path>"; symbolic links (mode 120000) hold a path, not code
        entries = [e.split("\t", 1) for e in res.stdout.decode("utf-8", "surrogateescape").split("\0") if "\t" in e]
        every = [path for meta, path in entries if not meta.startswith("120000")]
        chosen: List[str] = []
        missing: List[str] = []
        for p in paths:
            p = p.strip("/")
            if p in ("", "."):
                hits = [f for f in every if f.endswith(".py")]
            elif p in every:
                hits = [p]
            else:
                hits = [f for f in every if f.startswith(p + "/") and f.endswith(".py")]
            if not hits:
                missing.append(p)
            chosen.extend(h for h in hits if h not in chosen)
        return chosen, missing

    def read_blobs(self, gd: str, commit: str, files: Sequence[str]) -> Dict[str, bytes]:
        if not files:
            return {}
        req = "".join(f"{commit}:{f}\n" for f in files).encode("utf-8", "surrogateescape")
        out = self.git(gd, "cat-file", "--batch", data=req).stdout
        blobs: Dict[str, bytes] = {}
        pos = 0
        for f in files:
            nl = out.index(b"\n", pos)
            header = out[pos:nl].split()
            pos = nl + 1
            if len(header) == 3 and header[1] == b"blob":
                size = int(header[2])
                blobs[f] = out[pos : pos + size]
                pos += size + 1
        return blobs


def _write(root: str, rel: str, content: bytes) -> None:
    dest = os.path.join(root, rel)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "wb") as fh:
        fh.write(content)


def _how_to_get(repo: str) -> str:
    return f"clone it: `git clone --bare https://github.com/{repo} <mirror>/{repo.replace('/', '+')}/repo`"


def _snapshot(mirror: "Mirror", repo: str, commit: str, what: str) -> Optional[str]:
    """The snapshot's git folder when it holds `commit`; else None, saying why and how to fix it."""
    gd = mirror.git_dir(repo)
    if gd is None:
        print(f"skip {what}: no snapshot of {repo} under {mirror.root}; {_how_to_get(repo)}")
    elif not mirror.has_commit(gd, commit):
        print(f"skip {what}: commit {commit} is not in the snapshot of {repo}; refresh it ({_how_to_get(repo)})")
        gd = None
    return gd


def materialize(out: str, mirror_root: str, only: Optional[Sequence[str]] = None) -> int:
    """Write the clean set and the bugs; with `only`, just the bugs of those manifests."""
    mirror = Mirror(mirror_root)
    written = skipped = 0
    for repo in [] if only else load_clean():
        gd = _snapshot(mirror, repo.name, repo.commit, f"clean {repo.name}")
        if gd is None:
            skipped += 1
            continue
        files, missing = mirror.list_files(gd, repo.commit, repo.paths)
        for m in missing:
            print(f"warning: clean {repo.name}: path {m!r} matched nothing at {repo.commit[:12]}")
        dest = os.path.join(out, "clean", repo.folder)
        shutil.rmtree(dest, ignore_errors=True)
        for rel, content in mirror.read_blobs(gd, repo.commit, files).items():
            _write(dest, rel, content)
        written += 1
    if not only:
        print(f"clean: {written} repositories written to {os.path.join(out, 'clean')}, {skipped} skipped")

    bwritten = bskipped = 0
    for bug in load_bugs(only=only):
        gd = _snapshot(mirror, bug.repo, bug.fix_commit, f"bug {bug.id}")
        if gd is None:
            bskipped += 1
            continue
        parent = mirror.parent(gd, bug.fix_commit)
        if parent is None:
            print(f"skip bug {bug.id}: {bug.fix_commit[:12]} in {bug.repo} has no parent commit")
            bskipped += 1
            continue
        base = os.path.join(out, "bugs", bug.id)
        shutil.rmtree(base, ignore_errors=True)
        ok = True
        for version, commit, main_path in (("buggy", parent, bug.old_path), ("fixed", bug.fix_commit, bug.path)):
            wanted = [main_path, *bug.context]
            blobs = mirror.read_blobs(gd, commit, wanted)
            if main_path not in blobs:
                print(f"skip bug {bug.id}: {main_path} does not exist at {commit[:12]} ({version}) in {bug.repo}")
                ok = False
                break
            for c in bug.context:
                if c not in blobs:
                    print(f"note: bug {bug.id}: context file {c} absent at {commit[:12]} ({version})")
            for rel, content in blobs.items():
                _write(os.path.join(base, version), rel, content)
            # The whole repository's Python files too: pre-commit checks the changed file
            # inside its repository, where trainlint loads the files it imports as context.
            every, _ = mirror.list_files(gd, commit, ["."])
            for rel, content in mirror.read_blobs(gd, commit, every[:MAX_REPO_FILES]).items():
                _write(os.path.join(base, f"{version}-repo"), rel, content)
        if ok:
            bwritten += 1
        else:
            shutil.rmtree(base, ignore_errors=True)
            bskipped += 1
    print(f"bugs: {bwritten} written to {os.path.join(out, 'bugs')}, {bskipped} skipped")
    return 0


# --------------------------------------------------------------------------- linting


def count_lines(folder: str) -> int:
    """Non-blank physical lines of the .py files under folder."""
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            if f.endswith(".py"):
                with open(os.path.join(dirpath, f), "rb") as fh:
                    total += sum(1 for line in fh if line.strip())
    return total


@dataclass
class LintRun:
    folder: str
    findings: List[Dict[str, Any]]
    seconds: float
    error: str = ""


def run_trainlint(cmd: Sequence[str], folder: str, target: str = ".") -> LintRun:
    start = time.monotonic()
    proc = subprocess.run(
        [*cmd, "check", target, "--output-format", "json", "--no-cache", "--exit-zero", "--isolated"],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - start
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return LintRun(folder, [], seconds, f"exit {proc.returncode}: {' | '.join(tail)}")
    findings = []
    for d in data.get("diagnostics", []):
        d = dict(d)
        d["path"] = _rel(folder, d.get("path", ""))
        d["related"] = [dict(r, path=_rel(folder, r.get("path", ""))) for r in d.get("related") or []]
        findings.append(d)
    return LintRun(folder, findings, seconds)


def _rel(folder: str, path: str) -> str:
    if not path:
        return path
    full = path if os.path.isabs(path) else os.path.join(folder, path)
    rel = os.path.relpath(os.path.realpath(full), os.path.realpath(folder))
    return rel.replace(os.sep, "/")


def load_verdicts(path: str = VERDICTS_CSV) -> Dict[Tuple[str, str, int, str], Tuple[str, str]]:
    verdicts: Dict[Tuple[str, str, int, str], Tuple[str, str]] = {}
    if not os.path.exists(path):
        return verdicts
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            key = (row["repo"], row["path"], int(row["line"]), row["code"])
            verdicts[key] = (row["verdict"].strip().lower(), row.get("reason", ""))
    return verdicts


def _ratio(num: float, den: float) -> Optional[float]:
    return num / den if den else None


def _fmt(value: Optional[float], pattern: str = "{:.3f}") -> str:
    return "-" if value is None else pattern.format(value)


def score_clean(out: str, cmd: Sequence[str], jobs: int) -> Dict[str, Any]:
    repos = load_clean()
    present = [r for r in repos if os.path.isdir(os.path.join(out, "clean", r.folder))]
    for r in repos:
        if r not in present:
            print(f"skip clean {r.name}: not materialised under {out} (run `materialize`)")
    verdicts = load_verdicts()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        runs = list(pool.map(lambda r: run_trainlint(cmd, os.path.join(out, "clean", r.folder)), present))

    per_rule: Dict[str, Dict[str, int]] = {}
    per_repo: List[Dict[str, Any]] = []
    unjudged: List[Dict[str, Any]] = []
    reported: set = set()
    total_lines = total_findings = 0
    for repo, run in zip(present, runs):
        lines = count_lines(run.folder)
        total_lines += lines
        total_findings += len(run.findings)
        counts = {"true": 0, "false": 0, "unjudged": 0}
        for f in run.findings:
            key = (repo.name, f["path"], int(f["line"]), f["code"])
            reported.add(key)
            rule = per_rule.setdefault(f["code"], {"findings": 0, "true": 0, "false": 0, "unjudged": 0})
            rule["findings"] += 1
            verdict = verdicts.get(key, ("", ""))[0]
            bucket = verdict if verdict in ("true", "false") else "unjudged"
            rule[bucket] += 1
            counts[bucket] += 1
            if bucket == "unjudged":
                unjudged.append(
                    {
                        "repo": repo.name,
                        "path": f["path"],
                        "line": f["line"],
                        "code": f["code"],
                        "message": f.get("message", ""),
                    }
                )
        per_repo.append(
            {
                "repo": repo.name,
                "commit": repo.commit,
                "lines": lines,
                "findings": len(run.findings),
                "seconds": round(run.seconds, 2),
                "error": run.error,
                **counts,
            }
        )
    stale = [
        {"repo": k[0], "path": k[1], "line": k[2], "code": k[3], "verdict": v[0]}
        for k, v in sorted(verdicts.items())
        if k not in reported and any(r.name == k[0] for r in present)
    ]
    for stats in per_rule.values():
        stats_f = stats["false"]
        stats["false_per_10k_lines"] = round(10000 * stats_f / total_lines, 3) if total_lines else None  # type: ignore[assignment]
        stats["precision"] = _ratio(stats["true"], stats["true"] + stats["false"])  # type: ignore[assignment]
    t = sum(s["true"] for s in per_rule.values())
    fl = sum(s["false"] for s in per_rule.values())
    return {
        "repos": per_repo,
        "lines": total_lines,
        "findings": total_findings,
        "true": t,
        "false": fl,
        "unjudged": total_findings - t - fl,
        "precision": _ratio(t, t + fl),
        "false_per_10k_lines": round(10000 * fl / total_lines, 3) if total_lines else None,
        "per_rule": dict(sorted(per_rule.items())),
        "unjudged_findings": unjudged,
        "judged_but_not_reported": stale,
    }


def _near(f: Dict[str, Any], path: str, lines: Sequence[int], window: int) -> bool:
    if not lines:
        return True
    spots = [int(f["line"])] if f["path"] == path else []
    spots += [int(r["line"]) for r in f.get("related", []) if r.get("path") == path and r.get("line")]
    return any(abs(s - n) <= window for s in spots for n in lines)


def _touches(f: Dict[str, Any], path: str) -> bool:
    """A finding at the path, or pointing into it: a model's defect seen at a loss call in
    another file names the model's line as a related location, and the other way round."""
    return f["path"] == path or any(r.get("path") == path for r in f.get("related", []))


def _judge(b: Bug, buggy: LintRun, fixed: LintRun) -> Dict[str, Any]:
    in_buggy = [f for f in buggy.findings if f["code"] == b.rule and _touches(f, b.old_path)]
    hits = [f for f in in_buggy if _near(f, b.old_path, b.lines, b.window)]
    in_fixed = [f for f in fixed.findings if f["code"] == b.rule and _touches(f, b.path)]
    return {
        "found": bool(hits),
        "fixed_quiet": not in_fixed or len(in_fixed) < len(in_buggy),
        "buggy_rule_findings": len(in_buggy),
        "fixed_rule_findings": len(in_fixed),
        "other_codes_in_buggy": sorted({f["code"] for f in buggy.findings if f["code"] != b.rule}),
        "error": buggy.error or fixed.error,
        "near_misses": [{"line": f["line"], "message": f.get("message", "")} for f in in_buggy if f not in hits],
    }


def score_bugs(out: str, cmd: Sequence[str], jobs: int, only: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Each bug twice: its manifest files checked as one folder (`check .`), and its changed
    file checked inside the whole repository (`check PATH`, as pre-commit runs it), where
    trainlint itself picks the project files it needs. `found` is the first; `found_in_repo` the
    second (None when the repository copy was not materialised)."""
    bugs = load_bugs(only=only)
    present = [b for b in bugs if os.path.isdir(os.path.join(out, "bugs", b.id, "buggy"))]
    for b in bugs:
        if b not in present:
            print(f"skip bug {b.id}: not materialised under {out} (run `materialize`)")
    jobs_list: List[Tuple[str, str]] = []
    for b in present:
        for v, target in (("buggy", b.old_path), ("fixed", b.path)):
            jobs_list.append((os.path.join(out, "bugs", b.id, v), "."))
            repo_dir = os.path.join(out, "bugs", b.id, f"{v}-repo")
            if os.path.isdir(repo_dir):
                jobs_list.append((repo_dir, target))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        runs = dict(zip(jobs_list, pool.map(lambda j: run_trainlint(cmd, j[0], j[1]), jobs_list)))
    results: List[Dict[str, Any]] = []
    per_rule: Dict[str, Dict[str, int]] = {}
    for b in present:
        base = os.path.join(out, "bugs", b.id)
        result: Dict[str, Any] = {
            "id": b.id,
            "file": b.file,
            "repo": b.repo,
            "rule": b.rule,
            "path": b.old_path,
            "lines": b.lines,
            "summary": b.summary,
        }
        result.update(_judge(b, runs[(os.path.join(base, "buggy"), ".")], runs[(os.path.join(base, "fixed"), ".")]))
        in_repo = (os.path.join(base, "buggy-repo"), b.old_path), (os.path.join(base, "fixed-repo"), b.path)
        if in_repo[0] in runs and in_repo[1] in runs:
            judged = _judge(b, runs[in_repo[0]], runs[in_repo[1]])
            result["found_in_repo"] = judged["found"]
            result["fixed_quiet_in_repo"] = judged["fixed_quiet"]
        else:
            result["found_in_repo"] = result["fixed_quiet_in_repo"] = None
        stats = per_rule.setdefault(b.rule, {"bugs": 0, "found": 0, "found_and_quiet": 0, "found_in_repo": 0})
        stats["bugs"] += 1
        stats["found"] += result["found"]
        stats["found_and_quiet"] += result["found"] and result["fixed_quiet"]
        stats["found_in_repo"] += bool(result["found_in_repo"] and result["fixed_quiet_in_repo"])
        results.append(result)
    for stats in per_rule.values():
        stats["recall"] = _ratio(stats["found"], stats["bugs"])  # type: ignore[assignment]
        stats["recall_in_repo"] = _ratio(stats["found_in_repo"], stats["bugs"])  # type: ignore[assignment]
    n = len(results)
    found_n = sum(r["found"] for r in results)
    in_repo_n = sum(bool(r["found_in_repo"] and r["fixed_quiet_in_repo"]) for r in results)
    return {
        "bugs": n,
        "found": found_n,
        "found_and_quiet": sum(r["found"] and r["fixed_quiet"] for r in results),
        "recall": _ratio(found_n, n),
        "found_in_repo_and_quiet": in_repo_n,
        "recall_in_repo": _ratio(in_repo_n, n),
        "per_rule": dict(sorted(per_rule.items())),
        "per_file": _per_file(results),
        "results": results,
    }


def _per_file(results: Sequence[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    """Recall per manifest file: the development sets and the held-out one are read apart."""
    out: Dict[str, Dict[str, Any]] = {}
    for r in results:
        s = out.setdefault(r["file"], {"bugs": 0, "found": 0, "found_in_repo": 0})
        s["bugs"] += 1
        s["found"] += r["found"] and r["fixed_quiet"]
        s["found_in_repo"] += bool(r["found_in_repo"] and r["fixed_quiet_in_repo"])
    for s in out.values():
        s["recall"] = _ratio(s["found"], s["bugs"])
        s["recall_in_repo"] = _ratio(s["found_in_repo"], s["bugs"])
    return out


def print_report(clean: Optional[Dict[str, Any]], bugs: Dict[str, Any]) -> None:
    if clean is not None:
        _print_clean(clean)
    _print_bugs(bugs)


def _print_clean(clean: Dict[str, Any]) -> None:
    print("\n== clean set ==")
    print(f"{'repository':50} {'lines':>7} {'found':>5} {'true':>4} {'false':>5} {'unj':>4} {'secs':>6}")
    for r in clean["repos"]:
        print(
            f"{r['repo']:50} {r['lines']:7d} {r['findings']:5d} {r['true']:4d} {r['false']:5d} "
            f"{r['unjudged']:4d} {r['seconds']:6.1f}{'  ERROR ' + r['error'] if r['error'] else ''}"
        )
    print(
        f"\nlines of code: {clean['lines']}   findings: {clean['findings']}   true: {clean['true']}   "
        f"false: {clean['false']}   unjudged: {clean['unjudged']}"
    )
    print(
        f"precision: {_fmt(clean['precision'])}   false findings per 10k lines: "
        f"{_fmt(clean['false_per_10k_lines'], '{:.2f}')}"
    )
    print(f"\n{'rule':6} {'findings':>8} {'true':>5} {'false':>5} {'unjudged':>8} {'false/10k':>9} {'precision':>9}")
    for code, s in clean["per_rule"].items():
        print(
            f"{code:6} {s['findings']:8d} {s['true']:5d} {s['false']:5d} {s['unjudged']:8d} "
            f"{_fmt(s['false_per_10k_lines'], '{:.2f}'):>9} {_fmt(s['precision']):>9}"
        )
    if clean["unjudged_findings"]:
        print(f"\n-- {len(clean['unjudged_findings'])} unjudged findings (add them to clean_verdicts.csv) --")
        for u in clean["unjudged_findings"]:
            msg = " ".join(str(u["message"]).split())
            print(f"{u['repo']},{u['path']},{u['line']},{u['code']}  {msg[:300]}")
    if clean["judged_but_not_reported"]:
        print(f"\n-- {len(clean['judged_but_not_reported'])} judged findings no longer reported --")
        for s in clean["judged_but_not_reported"]:
            print(f"{s['repo']},{s['path']},{s['line']},{s['code']} (was {s['verdict']})")


def _print_bugs(bugs: Dict[str, Any]) -> None:
    print("\n== bug set ==")
    if not bugs["bugs"]:
        print("no bugs materialised")
        return
    print(
        f"bugs: {bugs['bugs']}   found: {bugs['found']}   found and quiet when fixed: {bugs['found_and_quiet']}   "
        f"recall: {_fmt(bugs['recall'])}"
    )
    print(
        f"checked inside the repository (`check PATH`): found and quiet: {bugs['found_in_repo_and_quiet']}   "
        f"recall: {_fmt(bugs['recall_in_repo'])}"
    )
    print(f"\n{'manifest':24} {'bugs':>5} {'found':>5} {'recall':>7} {'in repo':>7} {'recall':>7}")
    for name, s in bugs["per_file"].items():
        print(
            f"{name:24} {s['bugs']:5d} {s['found']:5d} {_fmt(s['recall']):>7} {s['found_in_repo']:7d} "
            f"{_fmt(s['recall_in_repo']):>7}"
        )
    print(f"\n{'rule':6} {'bugs':>5} {'found':>5} {'quiet':>5} {'recall':>7} {'in repo':>7}")
    for code, s in bugs["per_rule"].items():
        print(
            f"{code:6} {s['bugs']:5d} {s['found']:5d} {s['found_and_quiet']:5d} {_fmt(s['recall']):>7} "
            f"{s['found_in_repo']:7d}"
        )
    print()
    for r in bugs["results"]:
        state = "found" if r["found"] else "MISS "
        quiet = "" if not r["found"] else ("  fixed: quiet" if r["fixed_quiet"] else "  fixed: STILL REPORTED")
        repo_state = {None: "", True: "  in repo: found", False: "  in repo: MISS"}[
            None if r["found_in_repo"] is None else bool(r["found_in_repo"] and r["fixed_quiet_in_repo"])
        ]
        print(
            f"{state} {r['id']:40} {r['rule']} {r['repo']}:{r['path']}{quiet}{repo_state}"
            f"{'  ERROR ' + r['error'] if r['error'] else ''}"
        )
    misses = [r for r in bugs["results"] if not r["found"]]
    if misses:
        print(f"\n-- {len(misses)} misses --")
        for r in misses:
            near = (
                f"; {r['buggy_rule_findings']} {r['rule']} finding(s) elsewhere in the file"
                if r["buggy_rule_findings"]
                else ""
            )
            print(f"{r['id']}: {r['rule']} {r['repo']}:{r['path']} lines {r['lines']}{near} -- {r['summary']}")


# --------------------------------------------------------------------------- fix counts

_SAFE_HINT = re.compile(r"(\d+) fixable with `--fix`")
_UNSAFE_HINT = re.compile(r"(\d+) more with `--fix --unsafe-fixes`")
# "Fixed 2 problems (1 fix applied)" when one fix also resolved another finding.
_FIXED = re.compile(r"(?:Fixed|Would fix) (\d+) problems?(?: \((\d+) fix(?:es)? applied\))?")
_NOT_APPLIED = re.compile(r"fix for (TL\d+) not applied \((.*?)\): (.*)")


def _check_stderr(cmd: Sequence[str], folder: str, *args: str) -> Tuple[str, str]:
    proc = subprocess.run(
        [*cmd, "check", ".", "--no-cache", "--isolated", *args], cwd=folder, capture_output=True, text=True
    )
    return proc.stdout, proc.stderr


def _count(pattern: "re.Pattern[str]", text: str) -> int:
    found = pattern.search(text)
    return int(found.group(1)) if found else 0


def fix_counts(folder: str, cmd: Sequence[str]) -> Dict[str, Any]:
    """The hint's counts against what `--fix` (and `--fix --unsafe-fixes`) resolve, on a copy
    of `folder` each; the unsafe diff is kept for reading."""
    _, hint = _check_stderr(cmd, folder)
    row: Dict[str, Any] = {"safe_hint": _count(_SAFE_HINT, hint), "unsafe_hint": _count(_UNSAFE_HINT, hint)}
    for name, extra in (("safe", ()), ("unsafe", ("--unsafe-fixes",))):
        work = folder.rstrip("/") + f".fix-{name}"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(folder, work)
        try:
            _, err = _check_stderr(cmd, work, "--fix", *extra)
            # The problems resolved: what the hint counts (a fix that resolves two findings
            # on one line counts both), and more where a fix also ends a finding that has none.
            row[f"{name}_fixed"] = _count(_FIXED, err)
            row[f"{name}_dropped"] = [m.groups() for m in _NOT_APPLIED.finditer(err)]
        finally:
            shutil.rmtree(work, ignore_errors=True)
    row["diff"], _ = _check_stderr(cmd, folder, "--diff", "--unsafe-fixes")
    row["agree"] = (
        row["safe_fixed"] == row["safe_hint"] and row["unsafe_fixed"] == row["safe_hint"] + row["unsafe_hint"]
    )
    return row


def fixes(out: str, cmd: Sequence[str], diffs: Optional[str], jobs: int) -> int:
    """`fixes`: on every clean repository and every bug's buggy files, does `--fix` resolve what
    the "N fixable" hint promised? Prints the figures and writes each diff to `diffs`."""
    env_path = os.environ.get("PYTHONPATH", "")
    if REPO_ROOT not in env_path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (REPO_ROOT, env_path) if p)
    folders = sorted(glob.glob(os.path.join(out, "clean", "*")))
    folders += sorted(glob.glob(os.path.join(out, "bugs", "*", "buggy")))
    folders = [f for f in folders if os.path.isdir(f) and ".fix-" not in f]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        rows = list(pool.map(lambda f: fix_counts(f, cmd), folders))
    totals = {k: 0 for k in ("safe_hint", "unsafe_hint", "safe_fixed", "unsafe_fixed")}
    print(f"{'folder':60} {'hint safe+unsafe':>17} {'fixed safe':>10} {'fixed all':>10}")
    for folder, row in zip(folders, rows):
        for k in totals:
            totals[k] += row[k]
        name = os.path.relpath(folder, out)
        if row["safe_hint"] or row["unsafe_hint"] or row["safe_fixed"] or row["unsafe_fixed"]:
            mark = "" if row["agree"] else "  MISMATCH"
            hint = f"{row['safe_hint']}+{row['unsafe_hint']}"
            print(f"{name:60} {hint:>17} {row['safe_fixed']:>10} {row['unsafe_fixed']:>10}{mark}")
        for code, what, why in row["unsafe_dropped"]:
            print(f"    dropped {code} ({what}): {why}")
        if diffs and row["diff"]:
            path = os.path.join(diffs, name.replace("/", "+") + ".diff")
            os.makedirs(diffs, exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(row["diff"])
    agree = sum(1 for r in rows if r["agree"])
    print(
        f"\n{len(rows)} folders; the hints promised {totals['safe_hint']} safe + {totals['unsafe_hint']} unsafe "
        f"fixes; --fix resolved {totals['safe_fixed']}, --fix --unsafe-fixes {totals['unsafe_fixed']}; "
        f"counts agree in {agree} of {len(rows)} folders"
    )
    if diffs:
        print(f"diffs of --fix --unsafe-fixes written to {diffs}")
    return 0


def trainlint_command(arg: Optional[str]) -> List[str]:
    if arg:
        return shlex.split(arg)
    return [sys.executable, "-m", "trainlint"]


def score(
    out: str, json_path: Optional[str], cmd: Sequence[str], jobs: int, only: Optional[Sequence[str]] = None
) -> int:
    """Score the clean set and the bugs; with `only`, just the bugs of those manifests."""
    env_path = os.environ.get("PYTHONPATH", "")
    if REPO_ROOT not in env_path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (REPO_ROOT, env_path) if p)
    start = time.monotonic()
    clean = None if only else score_clean(out, cmd, jobs)
    bugs = score_bugs(out, cmd, jobs, only)
    print_report(clean, bugs)
    print(f"\n(scored in {time.monotonic() - start:.0f}s with: {' '.join(cmd)})")
    if json_path:
        with open(json_path, "w", encoding="utf-8") as fh:
            json.dump({"clean": clean, "bugs": bugs, "trainlint": list(cmd)}, fh, indent=2)
        print(f"wrote {json_path}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    mat = sub.add_parser("materialize", help="write the pinned files from the snapshots into OUT")
    mat.add_argument("--out", default=DEFAULT_OUT)
    mat.add_argument(
        "--mirror",
        default=os.environ.get("TRAINLINT_MIRROR", DEFAULT_MIRROR),
        help="folder of snapshots <owner>+<name>/repo (env TRAINLINT_MIRROR)",
    )
    only_help = "only the bugs of this manifest (name without .toml, e.g. heldout15; repeatable); skips the clean set"
    mat.add_argument("--bugs", action="append", metavar="NAME", help=only_help)
    sc = sub.add_parser("score", help="lint the materialised files and score the findings")
    sc.add_argument("--bugs", action="append", metavar="NAME", help=only_help)
    sc.add_argument("--out", default=DEFAULT_OUT)
    sc.add_argument("--json", dest="json_path", metavar="FILE")
    sc.add_argument("--trainlint", metavar="CMD", help="command that runs trainlint (default: python -m trainlint)")
    sc.add_argument("--jobs", type=int, default=2, help="trainlint runs at once (each uses every CPU itself)")
    fx = sub.add_parser("fixes", help="compare the fixable counts with what --fix resolves; keep the diffs")
    fx.add_argument("--out", default=DEFAULT_OUT)
    fx.add_argument("--diffs", metavar="DIR", help="write each folder's --fix --unsafe-fixes diff here")
    fx.add_argument("--trainlint", metavar="CMD", help="command that runs trainlint (default: python -m trainlint)")
    fx.add_argument("--jobs", type=int, default=2, help="folders at once")
    sub.add_parser("check-manifest", help="validate clean.toml and bugs/*.toml")
    args = parser.parse_args(argv)

    only = getattr(args, "bugs", None)
    unknown = unknown_manifests(only) if only else []
    if unknown:
        parser.error(f"no bug manifest {', '.join(map(repr, unknown))} under {BUGS_DIR}")
    if args.command == "materialize":
        return materialize(args.out, args.mirror, only)
    if args.command == "score":
        return score(args.out, args.json_path, trainlint_command(args.trainlint), args.jobs, only)
    if args.command == "fixes":
        return fixes(args.out, trainlint_command(args.trainlint), args.diffs, args.jobs)
    problems = check_manifest()
    for p in problems:
        print(p)
    n_bugs = len(load_bugs()) if not problems else 0
    print(
        "manifests OK" if not problems else f"{len(problems)} problem(s)",
        f"({len(load_clean())} clean repositories, {n_bugs} bugs)" if not problems else "",
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
