"""History diagnostics shown as warnings on the Train page."""

from nnbuilder.diagnostics import overfitting


def test_overfitting_needs_rising_val_and_falling_train():
    rising = [{"epoch": i, "train_loss": 1 - i * 0.05, "val_loss": 0.5 + i * 0.01} for i in range(8)]
    assert overfitting(rising)
    flat = [{"epoch": i, "train_loss": 1 - i * 0.05, "val_loss": 0.5} for i in range(8)]
    assert not overfitting(flat)
    assert not overfitting(rising[:3])
    assert not overfitting([{"epoch": i, "train_loss": 1.0, "val_loss": None} for i in range(8)])
