"""The GAN task's data: every usable column encoded like any other table, to be generated.

The target (if any) is just one more column to generate; nothing is predicted. Rows are split at random
(the validation rows watch the discriminator, the test rows are the real side of the quality report).
`y_<split>` is `X_<split>` (the same array): there is no separate target.
"""

from __future__ import annotations

import pandas as pd

from nnbuilder.data.prepared import PreparedData
from nnbuilder.tasks.autoencoder.data import encode_whole_rows
from nnbuilder.data.records import DataWarning
from nnbuilder.errors import DataError

NEEDS_TABLE = ("the gan task works on tables only for now (it generates a row's columns), but the input is "
               "{kind}; choose the tabular input on the Data page, or another task")


def prepare_gan(df: pd.DataFrame, data, input, drops: list[str], seed: int,
                found: list[DataWarning]) -> PreparedData:
    kind = getattr(input, "kind", "tabular")
    if kind != "tabular":
        raise DataError(NEEDS_TABLE.format(kind=kind))
    table = encode_whole_rows(df, data, [], drops, seed, found, what="generate")
    X = table.X
    return PreparedData(
        task="gan", target=[], feature_columns=table.feature_columns, columns=table.columns, classes=None,
        feature_names=table.names, X_train=X[0], X_val=X[1], X_test=X[2], y_train=X[0], y_val=X[1], y_test=X[2],
        target_mean=None, target_std=None, preprocessor=table.preprocessor,
        raw_test=df.iloc[table.rows[2]][table.feature_columns].reset_index(drop=True), warnings=found,
        n_rows=len(df),
    )
