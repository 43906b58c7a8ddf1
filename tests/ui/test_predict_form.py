"""The Predict form's plans: one input per raw feature column, defaults from the training table."""



import datetime as dt  # noqa: E402

import pandas as pd  # noqa: E402

from nnbuilder.data.pipeline import infer_roles  # noqa: E402
from ui.predict_form import field_plans, to_raw  # noqa: E402

FRAME = pd.DataFrame({
    "age": [20, 30, 40, None, 50] * 5,
    "price": [1.5, 2.5, 3.5, 4.5, 5.5] * 5,
    "city": ["Oslo", "Rome", "Oslo", "Lima", "Oslo"] * 5,
    "member": ["yes", "no", "yes", "yes", "no"] * 5,
    "signup": ["2021-01-05", "2021-02-05", "2021-03-05", "2021-04-05", "2021-05-05"] * 5,
    "target": [0, 1, 0, 1, 1] * 5,
})


def plans():
    columns = infer_roles(FRAME, "target")
    features = [c.name for c in columns if c.is_input]
    return {p.column: p for p in field_plans(columns, features, FRAME)}


def test_numbers_default_to_the_median():
    found = plans()
    assert found["age"].kind == "number" and found["age"].integer and found["age"].default == 35
    assert found["price"].kind == "number" and not found["price"].integer and found["price"].default == 3.5


def test_categories_offer_the_training_values_most_frequent_first():
    found = plans()
    assert found["city"].kind == "choice" and found["city"].choices == ("Lima", "Oslo", "Rome")
    assert found["city"].default == "Oslo"
    assert found["member"].kind == "choice" and set(found["member"].choices) == {"yes", "no"}


def test_dates_round_trip_in_the_tables_format():
    plan = plans()["signup"]
    assert plan.kind == "date" and plan.default == dt.date(2021, 3, 5)
    assert to_raw(plan, dt.date(2022, 7, 1)) == "2022-07-01"


def test_without_a_table_the_plans_still_exist():
    columns = infer_roles(FRAME, "target")
    features = [c.name for c in columns if c.is_input]
    empty = field_plans(columns, features, None)
    assert [p.column for p in empty] == features
