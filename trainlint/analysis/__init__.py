"""Facts about linted code, computed once per module and shared by every rule."""
