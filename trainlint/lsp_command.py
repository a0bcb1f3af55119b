"""`trainlint lsp`: start the language server on stdio (needs the `lsp` extra)."""

from __future__ import annotations

import sys

import click


@click.command("lsp")
@click.option("--stdio", is_flag=True, help="Talk over stdin/stdout (the default and only transport).")
def lsp(stdio: bool) -> None:
    """Run the language server for editors (Neovim, VS Code, Helix...) on stdio."""
    try:
        import pygls  # noqa: F401  (only checks that the extra is installed)
    except ImportError:
        click.echo("trainlint: the language server needs pygls: pip install 'trainlint[lsp]'", err=True)
        sys.exit(2)
    from trainlint.lsp import serve

    serve()
