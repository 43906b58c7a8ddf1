"""From a file to the arrays a network trains on: reading, column roles, task detection, split, encoding.

    io.py, clean.py          read a CSV robustly and tidy it;  datasets.py: the built-in datasets
    roles.py, records.py     what each column is for; the warnings and roles handed to front ends
    task_detection.py        classification or regression from the target; class labels
    split.py                 seeded, stratified train / validation / test rows
    features.py, embedding.py  raw columns -> float32 (tables), categorical embeddings
    image.py, sequence.py, windows.py  pixel rows -> images; time series -> windows
    prepared.py, pipeline.py PreparedData, and the supervised preparation the tasks build on
The task-level `prepare` (which preparation a task uses) is nnbuilder.tasks.prepare.
"""

from nnbuilder.data.datasets import DATASETS, list_datasets
from nnbuilder.data.features import Preprocessing, fitted_parameters, input_names, known_categories, part_name
from nnbuilder.data.pipeline import (FEW_ROWS, ImagePreprocessing, SequencePreprocessing, check_drops,
                                     detect_input_kind, drop_missing_targets, fit_tabular, is_time_series, load_table,
                                     plain_names, read_csv, resolve_targets, split_rows)
from nnbuilder.data.prepared import PreparedData
from nnbuilder.data.records import ColumnInfo, DataWarning
from nnbuilder.data.roles import infer_roles, parse_dates
from nnbuilder.data.task_detection import class_labels, encode_classes

__all__ = ["DATASETS", "FEW_ROWS", "ColumnInfo", "DataWarning", "ImagePreprocessing", "PreparedData",
           "Preprocessing", "SequencePreprocessing", "check_drops", "class_labels", "detect_input_kind",
           "drop_missing_targets", "encode_classes", "fit_tabular", "fitted_parameters", "infer_roles",
           "input_names", "is_time_series", "known_categories", "list_datasets", "load_table", "parse_dates",
           "part_name", "plain_names", "read_csv", "resolve_targets", "split_rows"]
