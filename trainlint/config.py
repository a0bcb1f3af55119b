"""`[tool.trainlint]` in pyproject.toml (or a trainlint.toml), merged with the command line."""

from __future__ import annotations

import fnmatch
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import click

from trainlint import options as rule_options
from trainlint import registry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11
    import tomli as tomllib

CONFIG_FILES = ("trainlint.toml", "pyproject.toml")
LIST_KEYS = ("select", "ignore", "extend-select", "exclude", "extend-exclude")
DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    ".env",
    "env",
    "__pycache__",
    "build",
    "dist",
    "node_modules",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".trainlint_cache",
    ".ipynb_checkpoints",
    "site-packages",
)


class ConfigError(Exception):
    """A problem with the configuration; the CLI prints it and exits 2."""


@dataclass
class Settings:
    select: Optional[List[str]] = None  # None: every rule enabled by default
    ignore: List[str] = field(default_factory=list)
    extend_select: List[str] = field(default_factory=list)
    exclude: List[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    extend_exclude: List[str] = field(default_factory=list)
    per_file_ignores: Dict[str, List[str]] = field(default_factory=dict)
    options: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    config_path: Optional[str] = None
    root: str = "."
    # The baseline file (`baseline.py`) named by the configuration, relative to it.
    baseline: Optional[str] = None

    def enabled_codes(self) -> set:
        """Codes in force, the most specific selector winning (ruff's convention)."""
        # Without an explicit selection every default rule is on, at the lowest specificity.
        selectors = list(self.select) if self.select is not None else ["ALL"]
        selectors += self.extend_select
        out = set()
        for code, info in registry.RULES.items():
            best_sel = _longest_match(code, selectors)
            if self.select is None and not info.default_enabled and _longest_match(code, self.extend_select) == 0:
                best_sel = 0
            best_ign = _longest_match(code, self.ignore)
            if best_sel > 0 and best_sel > best_ign:
                out.add(code)
        return out

    def ignored_for(self, path: str) -> set:
        rel = _relpath(path, self.root)
        out: set = set()
        for pattern, codes in self.per_file_ignores.items():
            if _glob_match(rel, pattern) or _glob_match(os.path.basename(path), pattern):
                out |= registry.expand(codes)
        return out

    def is_excluded(self, path: str) -> bool:
        rel = _relpath(path, self.root)
        parts = rel.replace("\\", "/").split("/")
        for pattern in [*self.exclude, *self.extend_exclude]:
            if _glob_match(rel, pattern) or any(fnmatch.fnmatch(p, pattern) for p in parts):
                return True
        return False

    def rule_options(self, code: str) -> Dict[str, Any]:
        merged = rule_options.defaults_for(code)
        merged.update(self.options.get(code, {}))
        return merged


def _longest_match(code: str, selectors: List[str]) -> int:
    best = 0
    for s in selectors:
        s = s.strip().upper()
        n = 1 if s == "ALL" else (len(s) + 1 if code.startswith(s) else 0)
        best = max(best, n)
    return best


def _relpath(path: str, root: str) -> str:
    try:
        return os.path.relpath(os.path.abspath(path), os.path.abspath(root)).replace("\\", "/")
    except ValueError:
        return path.replace("\\", "/")


def _glob_match(rel: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    return fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel, pattern + "/*") or fnmatch.fnmatch(rel, "*/" + pattern)


def find_config(start: str) -> Optional[Tuple[str, Dict[str, Any]]]:
    """The nearest trainlint.toml, or pyproject.toml with a [tool.trainlint] table, above `start`."""
    here = os.path.abspath(start)
    while True:
        for name in CONFIG_FILES:
            candidate = os.path.join(here, name)
            if os.path.isfile(candidate):
                data = load_toml(candidate)
                table = _table_of(candidate, data)
                if table is not None:
                    return candidate, table
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def load_toml(path: str) -> Dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _table_of(path: str, data: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    if os.path.basename(path) == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("trainlint") if isinstance(tool, dict) else None
        return table if isinstance(table, dict) else None
    tool = data.get("tool")
    if isinstance(tool, dict) and isinstance(tool.get("trainlint"), dict):
        return tool["trainlint"]
    return data


def settings_from_table(table: Dict[str, Any], path: str) -> Settings:
    s = Settings(config_path=path, root=os.path.dirname(os.path.abspath(path)))
    for key, value in table.items():
        if key in LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{path}: `{key}` must be a list of strings")
            if key in ("select", "ignore", "extend-select"):
                _check_selectors(value, f"{path}: `{key}`")
            attr = key.replace("-", "_")
            if key == "exclude":
                s.exclude = list(value)
            else:
                setattr(s, attr, list(value))
        elif key == "baseline":
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{path}: `baseline` must be the path of a file (a string)")
            s.baseline = os.path.join(s.root, value)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: `per-file-ignores` must be a table of glob = [codes]")
            for glob, codes in value.items():
                if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                    raise ConfigError(f"{path}: `per-file-ignores.{glob}` must be a list of codes")
                _check_selectors(codes, f"{path}: `per-file-ignores.{glob}`")
                s.per_file_ignores[glob] = list(codes)
        else:
            info = registry.lookup(key)
            if info is None:
                raise ConfigError(f"{path}: unknown key `{key}` in [tool.trainlint]")
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: `{key}` must be a table of options for {info.code}")
            s.options[info.code] = _check_options(info.code, value, f"{path}: [{key}]")
    return s


def _check_selectors(values: List[str], where: str) -> None:
    for v in values:
        if not registry.is_valid_selector(v):
            raise ConfigError(f"{where}: unknown rule code or prefix `{v}`")


def _check_options(code: str, table: Dict[str, Any], where: str) -> Dict[str, Any]:
    known = rule_options.defaults_for(code)
    out: Dict[str, Any] = {}
    for k, v in table.items():
        if k not in known:
            names = ", ".join(sorted(known)) or "none"
            raise ConfigError(f"{where}: unknown option `{k}` for {code} (known: {names})")
        default = known[k]
        ok = isinstance(v, type(default)) and not (isinstance(v, bool) and not isinstance(default, bool))
        if isinstance(default, float) and isinstance(v, int) and not isinstance(v, bool):
            ok, v = True, float(v)
        if not ok:
            raise ConfigError(f"{where}: option `{k}` must be {type(default).__name__}, got {type(v).__name__}")
        out[k] = v
    return out


def load_settings(config: Optional[str] = None, isolated: bool = False, start: Optional[str] = None) -> Settings:
    if isolated:
        return Settings(root=os.getcwd())
    if config is not None:
        if not os.path.isfile(config):
            raise ConfigError(f"{config}: no such config file")
        data = load_toml(config)
        table = _table_of(config, data)
        return settings_from_table(table or {}, config)
    found = find_config(start or os.getcwd())
    if found is None:
        return Settings(root=os.getcwd())
    path, table = found
    return settings_from_table(table, path)


def apply_cli(
    s: Settings,
    select: Optional[List[str]] = None,
    ignore: Optional[List[str]] = None,
    extend_select: Optional[List[str]] = None,
) -> Settings:
    for name, values in (("--select", select), ("--ignore", ignore), ("--extend-select", extend_select)):
        for v in values or []:
            if not registry.is_valid_selector(v):
                raise ConfigError(f"{name}: unknown rule code or prefix `{v}`")
    if select:
        s.select = list(select)
        s.extend_select = []
    if ignore:
        s.ignore = s.ignore + list(ignore)
    if extend_select:
        s.extend_select = s.extend_select + list(extend_select)
    return s


def split_codes(values: Sequence[str]) -> List[str]:
    out: List[str] = []
    for v in values:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return out


def cli_settings(
    config: Optional[str],
    isolated: bool,
    select: Sequence[str],
    ignore: Sequence[str],
    extend_select: Sequence[str],
) -> Settings:
    """The settings of a command: the configuration file (none when `isolated`), then the
    command line's `--select`/`--ignore`/`--extend-select` on top. Raises ConfigError."""
    settings = load_settings(config=config, isolated=isolated)
    return apply_cli(
        settings, split_codes(select) or None, split_codes(ignore) or None, split_codes(extend_select) or None
    )


def cli_settings_or_exit(
    config: Optional[str],
    isolated: bool,
    select: Sequence[str],
    ignore: Sequence[str],
    extend_select: Sequence[str],
    status: int,
) -> Settings:
    """`cli_settings` for a command: a bad configuration is the command's error message on
    stderr and exit status `status`."""
    try:
        return cli_settings(config, isolated, select, ignore, extend_select)
    except ConfigError as exc:
        click.echo(f"trainlint: error: {exc}", err=True)
        sys.exit(status)
