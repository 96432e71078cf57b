"""``python -m xentcli`` runs the ``xent`` command."""

from .cli import main

if __name__ == "__main__":  # not when a worker process (--engine dask) imports it again
    main()
