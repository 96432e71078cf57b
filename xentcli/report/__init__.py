"""What people read: the rich table (``table``) and the JSON, CSV, Markdown and HTML
reports (``formats``), each made from a ``Summary`` (or an ``Inspection``) and nothing
upstream; ``compare`` the same for a ``Comparison``; JUnit XML (``junit``) and GitHub
Actions' ``::error`` lines (``github``) for CI; ``trackers`` sends either to W&B or
MLflow (the only home of wandb and mlflow). May import the root modules, rich, and
``io.outputs`` for stream targets.
"""
