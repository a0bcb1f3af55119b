"""TL3xx: data and inputs (normalisation, shuffling, missing values).

Each rule computes its findings once per project (a finding's location may be in another
file than the loop that revealed it) and yields those that belong to the module at hand.
"""
