"""Peer: pyarrow reads, PyTorch's cross_entropy scores."""

import sys

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import torch
import torch.nn.functional as F

path, kind = sys.argv[1], sys.argv[2]
table = pq.read_table(path) if path.endswith(".parquet") else pacsv.read_csv(path)
labels = torch.from_numpy(table.column("label").to_numpy())
scores = torch.from_numpy(table.drop_columns(["label"]).to_tensor().to_numpy())
if kind == "binary":
    print(F.binary_cross_entropy_with_logits(scores[:, 0], labels.to(scores.dtype)).item())
else:
    print(F.cross_entropy(scores, labels).item())
