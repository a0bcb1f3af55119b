"""The rule pages of `rules/`, from a checkout or from the installed package."""

from __future__ import annotations

import os
from typing import Dict, Optional

from trainlint import registry

_HERE = os.path.dirname(os.path.abspath(__file__))
# In a wheel the pages are packaged as trainlint/rule_pages; in a checkout they sit in ../rules.
_CANDIDATES = (os.path.join(_HERE, "rule_pages"), os.path.join(os.path.dirname(_HERE), "rules"))


def pages_dir() -> Optional[str]:
    for d in _CANDIDATES:
        if os.path.isdir(d):
            return d
    return None


def page_paths() -> Dict[str, str]:
    """code -> path of its page."""
    d = pages_dir()
    out: Dict[str, str] = {}
    if d is None:
        return out
    for name in sorted(os.listdir(d)):
        if name.endswith(".md") and name[:2] == "TL":
            out[name.split("-", 1)[0]] = os.path.join(d, name)
    return out


def page_for(code_or_name: str) -> Optional[str]:
    info = registry.lookup(code_or_name)
    if info is None:
        return None
    path = page_paths().get(info.code)
    if path is None:
        return None
    with open(path, encoding="utf-8") as fh:
        return fh.read()
