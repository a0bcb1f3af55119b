"""The launching side (no torch): the `trace` command, the child process and its pipe, the
static half of a trace."""
