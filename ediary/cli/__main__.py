"""`python -m ediary.cli`: the same as the `ediary` console script."""

from ediary.cli import main

main()
