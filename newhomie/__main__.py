"""`python -m newhomie <command>`: see `newhomie.cli`."""

import sys

from newhomie.cli import main

if __name__ == "__main__":
    sys.exit(main())
