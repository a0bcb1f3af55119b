"""TL5xx: hyperparameters (the learning rate of a resolved optimizer).

A learning rate is judged only when every value that can reach the optimizer is known: a
literal, a module constant, a parameter default no call site overrides, or the `default=`
of an argparse option. A value computed at run time, read from a config file or swept in a
loop is left alone.
"""
