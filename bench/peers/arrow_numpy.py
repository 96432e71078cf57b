"""Peer: pyarrow reads, a hand-written NumPy log-softmax scores."""

import sys

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

path, kind = sys.argv[1], sys.argv[2]
table = pq.read_table(path) if path.endswith(".parquet") else pacsv.read_csv(path)
labels = table.column("label").to_numpy()
scores = np.column_stack([table.column(n).to_numpy() for n in table.column_names if n != "label"])
scores = scores.astype(np.float64)
if kind == "binary":
    z = scores[:, 0]
    print(np.mean(np.maximum(z, 0) - z * labels + np.log1p(np.exp(-np.abs(z)))))
else:
    top = scores.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(scores - top).sum(axis=1))
    print(np.mean(lse - scores[np.arange(len(labels)), labels]))
