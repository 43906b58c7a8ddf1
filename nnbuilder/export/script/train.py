"""The generated script's training half: optimizer, schedule, loss, the loop, test metrics, saving.

Source text (`string.Template`, `$NAME` filled in) mirroring `nnbuilder.train.trainer.Trainer` step for
step: `torch.manual_seed(seed)` before the model is built and again before training, one
permutation per epoch from its own seeded generator, mean batch loss per epoch, the validation
loss (or the training loss without a validation split) driving the schedule and early stopping,
the best weights restored at the end. The tables below are keyed like `nnbuilder.train.optim` and
`nnbuilder.model.heads`; a name without an entry raises ExportError in `export_script`.
"""

from __future__ import annotations

# Optimizer name -> the call (torch.optim), as nnbuilder.train.optim.OPTIMIZERS builds it.
OPTIMIZER_CODE = {
    "sgd": "torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY,\n"
           "                           fused=fused)",
    "adam": "torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY, fused=fused)",
    "adamw": "torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY, fused=fused)",
    "rmsprop": "torch.optim.RMSprop(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM,\n"
               "                               weight_decay=WEIGHT_DECAY)  # no fused version exists",
}

# Schedule name -> (what it does, the call; `$STEP` and `$PATIENCE_HALF` are worked out from the spec).
SCHEDULE_CODE = {
    "none": ("keep the learning rate constant", "None"),
    "step": ("divide the learning rate by 10 every third of the epochs",
             "torch.optim.lr_scheduler.StepLR(optimizer, step_size=$STEP, gamma=0.1)"),
    "cosine": ("glide the learning rate down to zero along a cosine curve",
               "torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=$STEP)"),
    "reduce_on_plateau": ("divide the learning rate by 10 when the monitored loss stops improving",
                          "torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.1, patience=$PATIENCE_HALF)"),
}

# Task -> (loss, how targets are shaped for it, why)
LOSS_CODE = {
    "binary": ("nn.BCEWithLogitsLoss()", "y.float().unsqueeze(1)",
               "one raw score per row; the loss applies the sigmoid itself (numerically stabler)"),
    "multiclass": ("nn.CrossEntropyLoss()", "y.long()",
                   "one raw score per class; the loss applies the softmax itself (numerically stabler)"),
    "regression": ("nn.MSELoss()", "y.float()", "mean squared error on the standardised target"),
    "multi_regression": ("nn.MSELoss()", "y.float()", "mean squared error, averaged over the standardised targets"),
}

TRAIN = '''\
# ---- 6. Train ---------------------------------------------------------------------------------

def make_optimizer(model, device):
    """$OPTIMIZER_WHY"""
    fused = device.type in ("cpu", "cuda")  # one kernel updates every weight at once: same maths, faster
    return $OPTIMIZER


def make_schedule(optimizer):
    """$SCHEDULE_WHY; stepped once per epoch."""
    return $SCHEDULE


def loss_function():
    # $LOSS_WHY
    return $LOSS


def loss_target(y):
    return $LOSS_TARGET


def l1_penalty(model):
    """Sum of |weight| over the weights (biases and norm shifts stay free)."""
    return sum(p.abs().sum() for name, p in model.named_parameters() if "weight" in name)


@torch.no_grad()
def mean_loss(model, x, y, loss_fn):
    model.eval()  # dropout off, batch norm uses its running statistics
    return float(loss_fn(model(x), y))


def train(model, data, device):
    """Mini-batch training with early stopping; returns the model holding its best weights."""
    torch.manual_seed(SEED)  # dropout masks
    model.to(device)
    x = torch.as_tensor(data["X_train"], device=device)
    y = loss_target(torch.as_tensor(data["y_train"], device=device))
    x_val = torch.as_tensor(data["X_val"], device=device)
    y_val = loss_target(torch.as_tensor(data["y_val"], device=device))
    loss_fn, optimizer = loss_function(), make_optimizer(model, device)
    schedule = make_schedule(optimizer)
    generator = torch.Generator().manual_seed(SEED)  # the batch order: its own generator, seeded
    rows, batch_size = len(x), min(BATCH_SIZE, len(x))
    best_loss, best_state, stale = math.inf, None, 0
    for epoch in range(1, EPOCHS + 1):
        model.train()
        order = torch.randperm(rows, generator=generator).to(device)  # a new shuffle every epoch
        total = torch.zeros((), device=device)  # summed on the device: no slow .item() per batch
        for start in range(0, rows, batch_size):
            index = order[start:start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[index]), y[index])
            penalised = loss + L1 * l1_penalty(model) if L1 > 0 else loss
            penalised.backward()
            optimizer.step()
            total += loss.detach() * len(index)
        train_loss = float(total) / rows
        if not math.isfinite(train_loss):
            raise SystemExit(f"training diverged at epoch {epoch} (loss {train_loss}); lower LEARNING_RATE")
        val_loss = mean_loss(model, x_val, y_val, loss_fn) if len(x_val) else None
        monitored = train_loss if val_loss is None else val_loss  # what "better" means
        if isinstance(schedule, torch.optim.lr_scheduler.ReduceLROnPlateau):
            schedule.step(monitored)
        elif schedule is not None:
            schedule.step()
        if monitored < best_loss - 1e-12:
            best_loss, stale = monitored, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
        shown = "" if val_loss is None else f"  val loss {val_loss:.4f}"
        print(f"epoch {epoch:4d}  train loss {train_loss:.4f}{shown}")
        if PATIENCE and stale >= PATIENCE:
            print(f"early stop: no better loss for {PATIENCE} epochs")
            break
    if best_state is not None:
        model.load_state_dict(best_state)  # the best epoch's weights, not the last ones
    return model


'''

CLASS_EVALUATE = '''\
# ---- 7. Score the test rows -------------------------------------------------------------------

@torch.no_grad()
def probabilities(model, x):
    """Class probabilities (rows, classes) from the raw scores."""
    model.eval()
    scores = model(x)
    if TASK == "binary":
        p1 = torch.sigmoid(scores[:, 0])
        return torch.stack([1 - p1, p1], dim=1)
    return torch.softmax(scores, dim=1)


def test_metrics(model, data, device):
    """Accuracy on the test rows, with scikit-learn, in the units the app reports."""
    if len(data["X_test"]) == 0:
        return {"n": 0}
    proba = probabilities(model, torch.as_tensor(data["X_test"], device=device)).cpu().numpy()
    predicted, actual = proba.argmax(axis=1), data["y_test"]
    return {"n": int(len(actual)), "accuracy": float(metrics.accuracy_score(actual, predicted)),
            "balanced_accuracy": float(metrics.balanced_accuracy_score(actual, predicted))}


'''

NUMBER_EVALUATE = '''\
# ---- 7. Score the test rows -------------------------------------------------------------------

def test_metrics(model, data, device):
    """R², RMSE and MAE on the test rows, with scikit-learn, in the target's own units."""
    if len(data["X_test"]) == 0:
        return {"n": 0}
    model.eval()
    with torch.no_grad():
        outputs = model(torch.as_tensor(data["X_test"], device=device)).cpu().numpy()
    mean, std = data["target_mean"], data["target_std"]
    actual, predicted = data["y_test"] * std + mean, outputs * std + mean  # back to the original units
    return {"n": int(len(actual)),
            "r2": float(metrics.r2_score(actual, predicted)) if len(actual) > 1 else None,
            "rmse": float(np.sqrt(metrics.mean_squared_error(actual, predicted))),
            "mae": float(metrics.mean_absolute_error(actual, predicted))}


'''

MAIN = '''\
# ---- 8. Save and run ---------------------------------------------------------------------------

def save(model, data, out):
    """The weights (torch) and the fitted preprocessing (joblib) in the folder `out`.

    Reload them with:  model = Net(); model.load_state_dict(torch.load(out / "weights.pt", weights_only=True))
    and joblib.load(out / "preprocessing.joblib"); joblib unpickles, so load only files you made yourself.
    """
    out.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, out / "weights.pt")
    joblib.dump({"task": TASK, "target": TARGET, "input_columns": INPUT_COLUMNS, "classes": data["classes"],
                 "preprocessing": data["preprocessing"], "target_mean": data["target_mean"],
                 "target_std": data["target_std"]}, out / "preprocessing.joblib")
    print(f"saved {out / 'weights.pt'} and {out / 'preprocessing.joblib'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", help="the data as a CSV file, with the columns you trained on in nnbuilder")
    parser.add_argument("--out", default="model_out", help="folder for the weights and preprocessing")
    args = parser.parse_args()
    data = prepare_data(read_table(args.csv))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(SEED)  # the same starting weights as in the app
    model = Net()
    print(model)
    print(f"{sum(p.numel() for p in model.parameters()):,} trainable parameters")
    model = train(model, data, device)
    result = {"test": test_metrics(model, data, device)}
    save(model, data, Path(args.out))
    print(json.dumps(result))  # the last line, for programs that read this script's output


if __name__ == "__main__":
    main()
'''
