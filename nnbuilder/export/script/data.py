"""The generated script's data half: read the CSV, drop rows without a target, split, encode.

Each piece is Python source text (a `string.Template`: `$NAME` is filled in, nothing else) that
repeats in plain pandas + scikit-learn what `nnbuilder.data.pipeline` does, so the script's split and
features equal the app's (tests compare them): the split of `data_split.split_rows` / `split_once`, the
class encoding of `data_task.class_labels` / `encode_classes`, the features of
`data_features.build_frame` + `make_preprocessor`, or the pixel scaling of `data_image`.
`FEATURES` picks the encoding by input kind; a new kind (or the embedding encoding) adds an entry.
"""

from __future__ import annotations

READ = '''\
# ---- 2. Read the table ------------------------------------------------------------------------

def read_table(path):
    """The CSV as a table.

    Assumes what most tools write: a comma between values, a header row, UTF-8 text. For other files
    tell pandas, e.g. pd.read_csv(path, sep=";") or pd.read_csv(path, encoding="cp1252") (old Excel).
    """
    return pd.read_csv(path)


def check_columns(df):
    """Stop with a clear message when the CSV lacks a column the network was built for."""
    missing = [name for name in TARGET + INPUT_COLUMNS if name not in df.columns]
    if missing:
        raise SystemExit(f"the CSV lacks {len(missing)} column(s) this model needs: {missing[:10]}; "
                         "use the same columns as the data you trained on in nnbuilder")


def drop_rows_without_target(df):
    """A row whose target is missing (or infinite) has nothing to learn from: leave it out."""
    missing = np.zeros(len(df), dtype=bool)
    for name in TARGET:
        column = df[name]
        missing |= column.isna().to_numpy()
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            missing |= np.isinf(column.to_numpy(dtype=np.float64, na_value=np.nan))
    if missing.any():
        print(f"left out {int(missing.sum())} row(s) without a target")
    return df.loc[~missing].reset_index(drop=True)


'''

CLASS_TARGET = '''\
def as_labels(y):
    """0.0/1.0 read from a whole-number column with gaps are the labels 0 and 1."""
    present = y.dropna()
    if pd.api.types.is_float_dtype(y) and np.all(present == np.round(present)):
        return y.astype(np.int64)
    return y


def encode_target(df):
    """Class labels -> class numbers 0..k-1, in sorted label order (as the app numbers them)."""
    y = as_labels(df[TARGET[0]])
    classes = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(y)]
    try:
        classes = sorted(classes)
    except TypeError:  # labels of mixed kinds
        classes = sorted(classes, key=str)
    return pd.Categorical(y, categories=classes).codes.astype(np.int64), classes  # (rows,)


'''

NUMBER_TARGET = '''\
def encode_target(df):
    """The target value(s) as numbers (rows, targets); they are standardised once the split is known."""
    return df[TARGET].to_numpy(dtype=np.float64), None


'''

SPLIT = '''\
# ---- 3. Split the rows: train (learn), validation (pick the best epoch), test (final score) -----

def split_rows(n, labels):
    """Row positions (train, val, test). Every split keeps the class shares (stratified) when each
    class has enough rows; otherwise the rows are split at random, as the app does."""
    try:
        return split_once(n, labels)
    except ValueError:  # a class too small to appear in every split
        return split_once(n, None)


def split_once(n, labels):
    rows, none = np.arange(n), np.arange(0)
    if SPLIT["test"] == 0:
        rest, test = rows, none
    else:
        rest, test = train_test_split(rows, test_size=SPLIT["test"], random_state=SEED, stratify=labels)
    if SPLIT["val"] == 0:
        return rest, none, test
    share = SPLIT["val"] / (SPLIT["train"] + SPLIT["val"])  # the validation share of what is left
    train, val = train_test_split(rest, test_size=share, random_state=SEED,
                                  stratify=None if labels is None else labels[rest])
    return train, val, test


'''

TABULAR = '''\
# ---- 4. Turn raw columns into numbers ---------------------------------------------------------
# Two steps, as in the app. build_frame needs no fitting: numbers become floats (infinite -> missing),
# dates become their parts, yes/no and categories become clean text. Then a scikit-learn
# ColumnTransformer, fitted on the training rows only (the model must not peek at the test rows),
# fills gaps, scales numbers to mean 0 / spread 1 and one-hot encodes the text.

def numbers(values):
    """Numbers (or text holding numbers) -> float64; unreadable or infinite values count as missing."""
    out = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isinf(out), np.nan, out)


def dates(values, fmt):
    """Text -> dates with the format the app detected; what does not parse becomes missing (NaT)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns when it has to guess a format
        try:
            return pd.to_datetime(values, format=fmt, errors="coerce")
        except (ValueError, TypeError):  # mixed time zones: compare in UTC
            return pd.to_datetime(values, format=fmt, errors="coerce", utc=True)


def text(values, boolean):
    """Stripped text; a blank cell is missing; yes/no words all become 'true' or 'false'."""
    words = values.astype(str).str.strip()
    present = (values.notna() & (words != "")).to_numpy()
    if boolean:
        words = words.str.lower().replace(BOOLEAN_WORDS)
    return np.where(present, words.to_numpy(dtype=object), np.nan)


def build_frame(df):
    """The table the ColumnTransformer reads: NUMERIC_FEATURES, CATEGORY_FEATURES, then EMBEDDED_FEATURES."""
    parts = {}
    for name, role in ROLES.items():
        if role == "numeric":
            parts[name] = numbers(df[name])
        elif role == "datetime":  # year, month, day, weekday (0 = Monday) and hour as numbers
            when = dates(df[name], DATE_FORMATS.get(name))
            for accessor, key in DATE_PARTS[name].items():
                parts[key] = getattr(when.dt, accessor).to_numpy(dtype=np.float64, na_value=np.nan)
        else:  # categorical and boolean: one-hot encoded text
            parts[name] = text(df[name], boolean=role == "boolean")
    return pd.DataFrame(parts, index=df.index)[NUMERIC_FEATURES + CATEGORY_FEATURES + EMBEDDED_FEATURES]


def make_preprocessor():
    """Median-fill + standardise numbers; fill gaps in text with 'missing' + one-hot (unseen text: all 0)."""
    steps = []
    if NUMERIC_FEATURES:
        steps.append(("numeric", Pipeline([
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]), NUMERIC_FEATURES))
    if CATEGORY_FEATURES:
        steps.append(("categorical", Pipeline([
            ("impute", SimpleImputer(strategy="constant", fill_value="missing", keep_empty_features=True)),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]), CATEGORY_FEATURES))
    if EMBEDDED_FEATURES:  # many categories: one integer code per row (unseen: -1), looked up by the network
        steps.append(("embedded", Pipeline([
            ("impute", SimpleImputer(strategy="constant", fill_value="missing", keep_empty_features=True)),
            ("ordinal", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                       dtype=np.float32)),
        ]), EMBEDDED_FEATURES))
    return ColumnTransformer(steps, remainder="drop", sparse_threshold=0.0)


def fit_features(df):
    """The preprocessing, fitted on these (training) rows only."""
    return make_preprocessor().fit(build_frame(df))


def encode_features(df, preprocessing):
    """Raw rows -> (rows, $N_FEATURES) float32, the matrix the network reads."""
    if len(df) == 0:
        return np.zeros((0, $N_FEATURES), dtype=np.float32)
    return np.asarray(preprocessing.transform(build_frame(df)), dtype=np.float32)


'''

IMAGE = '''\
# ---- 4. Turn pixel columns into images ---------------------------------------------------------
# Each row is one image, its pixels stored channel by channel, row by row. Pixels are divided by the
# brightest training pixel (or PIXEL_MAX when your spec fixed it) so they lie in [0, 1].

def pixels(df):
    """(rows, pixels) float64; a missing pixel stops the script (fill or drop such rows first)."""
    values = df[INPUT_COLUMNS].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise SystemExit("some pixel values are missing or not numbers; fill or drop those rows")
    return values


def fit_features(df):
    """The pixel scale, from these (training) rows only."""
    if PIXEL_MAX is not None:
        return {"pixel_max": PIXEL_MAX}
    brightest = float(pixels(df).max()) if len(df) else 1.0
    return {"pixel_max": brightest if brightest > 0 else 1.0}  # an all-black set: nothing to scale


def encode_features(df, preprocessing):
    """Raw rows -> (rows, channels, height, width) float32 images."""
    return (pixels(df) / preprocessing["pixel_max"]).astype(np.float32).reshape(len(df), *IMAGE_SHAPE)


'''

PREPARE = '''\
def prepare_data(df):
    """Split and encode the table: X and y per split, plus what turns outputs back into answers."""
    check_columns(df)
    df = drop_rows_without_target(df)
    y, classes = encode_target(df)
    train, val, test = split_rows(len(df), y if classes is not None else None)
    preprocessing = fit_features(df.iloc[train])
    data = {"classes": classes, "preprocessing": preprocessing, "target_mean": None, "target_std": None}
    if classes is None:  # regression: standardise the target with the training rows' mean and spread
        mean, std = y[train].mean(axis=0), y[train].std(axis=0)
        std = np.where(std > 0, std, 1.0)
        y = ((y - mean) / std).astype(np.float32)
        data.update(target_mean=mean, target_std=std)
    for name, rows in (("train", train), ("val", val), ("test", test)):
        data[f"X_{name}"] = encode_features(df.iloc[rows], preprocessing)
        data[f"y_{name}"] = y[rows]
    print(f"{len(df)} rows: {len(train)} train, {len(val)} validation, {len(test)} test")
    return data


'''

# Input kind -> (the features section, the extra imports it needs)
FEATURES = {
    "tabular": (TABULAR, "import warnings\n", "from sklearn.compose import ColumnTransformer\n"
                "from sklearn.impute import SimpleImputer\nfrom sklearn.pipeline import Pipeline\n"
                "from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler\n"),
    "image": (IMAGE, "", ""),
}
