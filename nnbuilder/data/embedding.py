"""Categorical embeddings for tabular input: which columns get them, and what the model needs to know.

With `input.categorical == "embedding"`, a categorical column with at least `embedding_min_levels`
distinct values is not one-hot encoded. The ColumnTransformer's "embedded" branch turns it into
one integer code per row instead (OrdinalEncoder: 0..levels-1, an unseen or missing-at-predict value
-1), and those codes are the LAST columns of the feature matrix, so X stays one float32 matrix
that the trainer, evaluation and bundles handle like any other. The model's first module
(`nnbuilder.layers.embedding.TabularEmbeddings`) looks each code up in a learned table, row 0 of
which is kept for the unknown code. Only standard scikit-learn classes are used, so skops saves the
preprocessing and skl2onnx converts it.

Columns with more than the usual 50 categories are kept (up to `EMBEDDING_MAX_CATEGORIES`) when
embedding is on: that is what embeddings are for.
"""

from __future__ import annotations

from sklearn.compose import ColumnTransformer

from nnbuilder.data.features import fitted_parameters
from nnbuilder.data.records import ColumnInfo
from nnbuilder.data.roles import MAX_CATEGORIES
from nnbuilder.errors import DataError

EMBEDDING_MAX_CATEGORIES = 10_000
BRANCH = "embedded"  # the ColumnTransformer branch that holds the embedded columns


def embedding_on(input_spec) -> bool:
    return getattr(input_spec, "categorical", "one_hot") == "embedding"


def max_categories(input_spec) -> int:
    """How many distinct values a text column may have and still be used as a category."""
    return EMBEDDING_MAX_CATEGORIES if embedding_on(input_spec) else MAX_CATEGORIES


def embedded_columns(columns: list[ColumnInfo], feature_columns: list[str], input_spec) -> list[str]:
    """The categorical input columns to embed (booleans and small categories stay one-hot)."""
    if not embedding_on(input_spec):
        return []
    used = set(feature_columns)
    return [c.name for c in columns
            if c.name in used and c.role == "categorical" and c.unique >= input_spec.embedding_min_levels]


def embedding_levels(preprocessor: ColumnTransformer | None) -> list[int]:
    """Rows of each embedded column's table: its training categories + 1 for 'unknown' (empty: none embedded)."""
    if preprocessor is None:
        return []
    embedded = fitted_parameters(preprocessor).get(BRANCH, {"categories": []})
    return [len(categories) + 1 for categories in embedded["categories"]]


def refuse_for_task(task: str, input_spec) -> None:
    """Autoencoders rebuild their inputs and GANs generate them: both need one-hot categories."""
    if embedding_on(input_spec):
        raise DataError(f"categorical embeddings work for prediction tasks; the {task} task needs one-hot categories: "
                        "set input.categorical to one_hot (Data page, 'Categorical columns')")
