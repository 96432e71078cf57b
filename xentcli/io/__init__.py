"""Readers and writers: every input format as a ``Source`` of Arrow record batches, and
the outputs written atomically as a set.

``source.open_source`` decides which reader opens an input (``detect``: extension,
confirmed by magic bytes; ``remote`` finds what a URL names through pyarrow's
filesystems); the readers (``csvread``, ``parquetread``, ``dataset``,
``arrowread``, ``jsonread``, ``npyread``, ``tableread``) turn pyarrow's failures into
one-line errors naming file, column, row and line; ``listcols`` presents a list column
element by element; ``arrays`` views Arrow buffers as NumPy without pandas. ``outputs``
and ``persample`` write files. May import: the root modules (``errors``, ``options``,
``summary``) and pyarrow/NumPy; nothing of ``run``, ``losses``, ``metrics``, ``report``
or ``cli``.
"""
