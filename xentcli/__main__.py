"""``python -m xentcli`` runs the ``xent`` command."""

from .cli import main

main()
