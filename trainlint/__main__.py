import os
import sys

# `python -m trainlint` puts the working folder first on sys.path; a linted project's own
# click.py or json.py must not shadow the modules trainlint imports.
if sys.path and os.path.abspath(sys.path[0] or ".") == os.getcwd():
    del sys.path[0]

from trainlint.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
