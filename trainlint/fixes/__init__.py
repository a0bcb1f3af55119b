"""Fixes as text edits computed with libcst, shared by `check --fix` and the editor's code actions.

A fix is described as changes to syntax nodes (replace this expression, insert this statement
before that one, move a statement after another). libcst renders the changed code, so the
formatting and comments of everything it keeps survive, and the fix is then stated as the
smallest text edits that turn the old source into the new one: nothing outside an edit's span
changes. A rule attaches a fix with one line:

    Finding(..., fix_builder=fixes.hook(fix_tl101, backward, step))

and the engine calls the builder with a position lookup only for findings it reports.
Every `fix_tlNNN` returns None when it cannot be sure of the shape of the code (a statement
that shares its line with others, a call inside a lambda, a receiver it cannot name): no fix
is better than a wrong one.

The package: `core` (the framework: changes to text edits, `hook`, `make_fix`, applying
edits), `edits` (helpers that build changes), `builders` (changes that several rules' fixes
make) and `apply` (`check --fix`: compute, verify by re-linting, write). Each rule's own
`fix_tlNNN` lives in its rule file.
"""

from trainlint.fixes.core import SAFE, UNSAFE, EditError, FixBuilder, apply_edits, hook

__all__ = [
    "SAFE",
    "UNSAFE",
    "EditError",
    "FixBuilder",
    "apply_edits",
    "hook",
]
