"""The `nnbuilder` command: train, resume, predict, generate, export, serve, inspect and list datasets, headless, from the same spec as the app.

Bad input of any kind exits 2 with one `error: ...` line on stderr and no
traceback. `train` prints progress to stderr and, as the last line of stdout,
one JSON object with the metrics, so scripts can read it (for `--task gan` the metrics hold the
synthetic rows' quality report under "quality"; see nnbuilder.tasks.gan.quality).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path

from nnbuilder import __version__
from nnbuilder.errors import NNBuilderError
from nnbuilder.export.formats import EXPORT_FORMATS
from nnbuilder.spec.task_names import TASK_CHOICES

EXIT_BAD_INPUT = 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return args.run(args)
    except NNBuilderError as exc:
        return _fail(str(exc))
    except MemoryError:
        return _fail("ran out of memory; use a smaller network, a smaller batch size or fewer rows")
    except BrokenPipeError:  # e.g. `nnbuilder predict ... | head`
        return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nnbuilder", description="Build, train and use neural networks from CSV files.")
    parser.add_argument("--version", action="version", version=f"nnbuilder {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser("train", help="train a network on a CSV (or sample:NAME) and save a bundle")
    train.add_argument("data", metavar="DATA", help="CSV file, or sample:NAME for a built-in dataset")
    train.add_argument("--target", help="column to predict (overrides the spec)")
    train.add_argument("--task", choices=list(TASK_CHOICES),
                       help="override task detection (forecast: a time series with the sequence input; "
                       "autoencoder: anomaly scores, --target is then an optional label column; "
                       "gan: a generator of new rows, with a quality report)")
    train.add_argument("--spec", help="network spec JSON; without it a small default network is used")
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--lr", type=float, help="learning rate")
    train.add_argument("--seed", type=int)
    train.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    train.add_argument("--out", help="bundle folder to write (default: runs/<target>-<time>)")
    train.set_defaults(run=_train)

    resume = commands.add_parser("resume", help="continue an interrupted run of the run store from its checkpoint")
    resume.add_argument("run_id", metavar="RUN", help="the run's id (NNBUILDER_HOME / NNBUILDER_DB_URL name the store)")
    resume.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    resume.set_defaults(run=_resume)

    predict = commands.add_parser("predict", help="predict new rows with a saved bundle")
    predict.add_argument("bundle", metavar="BUNDLE", help="bundle folder or zip written by train")
    predict.add_argument("data", metavar="DATA", help="CSV file with the same feature columns")
    predict.add_argument("--out", help="write predictions to this CSV instead of stdout")
    predict.set_defaults(run=_predict)

    generate = commands.add_parser("generate", help="generate new rows with a saved GAN bundle")
    generate.add_argument("bundle", metavar="BUNDLE", help="bundle folder or zip written by train --task gan")
    generate.add_argument("--rows", type=int, required=True, help="how many rows to generate")
    generate.add_argument("--seed", type=int, default=0, help="the same seed gives the same rows (default 0)")
    generate.add_argument("--out", help="write the rows to this CSV instead of stdout")
    generate.set_defaults(run=_generate)

    serve = commands.add_parser("serve", help="answer predictions as JSON over HTTP from a saved bundle")
    serve.add_argument("bundle", metavar="BUNDLE", help="bundle folder or zip written by train")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only; there is no "
                       "authentication, so anything else lets whoever reaches it use the model)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--max-rows", type=int, default=10_000,
                       help="most rows one request may send (default 10000); more answer 413")
    serve.set_defaults(run=_serve)

    export = commands.add_parser("export", help="write a saved bundle as ONNX, TorchScript or a PyTorch script")
    export.add_argument("bundle", metavar="BUNDLE", help="bundle folder or zip written by train")
    export.add_argument("--format", required=True, choices=list(EXPORT_FORMATS),
                        help="onnx: raw columns in, predictions out (preprocessing inside); torchscript: the "
                        "network, preprocessing as JSON inside; python: a standalone training script")
    export.add_argument("--out", help="file to write (default: the bundle's name with the format's ending)")
    export.add_argument("--check-data", metavar="CSV",
                        help="rows to check the exported file against the bundle on (e.g. your test rows); "
                        "the ONNX export also checks rows it makes up from the preprocessing")
    export.set_defaults(run=_export)

    inspect = commands.add_parser("inspect", help="show layers, output shapes and parameter counts without training")
    inspect.add_argument("--spec", help="network spec JSON (default network if left out)")
    inspect.add_argument("--data", required=True, help="CSV file or sample:NAME")
    inspect.add_argument("--target", help="column to predict (overrides the spec)")
    inspect.add_argument("--task", choices=list(TASK_CHOICES),
                         help="override task detection")
    inspect.add_argument("--json", action="store_true", help="print the table as JSON")
    inspect.set_defaults(run=_inspect)

    datasets = commands.add_parser("datasets", help="list the built-in datasets")
    datasets.set_defaults(run=_datasets)
    return parser


def _spec_from_args(args):
    from nnbuilder.spec.network import default_spec, load_spec, parse_spec

    spec = load_spec(args.spec) if args.spec else default_spec()
    data = spec.model_dump()
    overrides = {"epochs": "epochs", "batch_size": "batch_size", "lr": "learning_rate", "seed": "seed"}
    for arg, key in overrides.items():
        if getattr(args, arg, None) is not None:
            data["training"][key] = getattr(args, arg)
    if args.target:
        data["data"]["target"] = args.target
    if getattr(args, "task", None):
        data["data"]["task"] = args.task
    return parse_spec(data)  # re-validated, so a bad --lr gets the same message as a bad spec


def _read_table(source: str):
    from nnbuilder.data.pipeline import load_table

    df, warnings = load_table(source)
    for warning in warnings:
        print(f"warning: {warning.message}", file=sys.stderr)
    return df, warnings


def _train(args) -> int:
    from nnbuilder.bundle.bundle import save_bundle
    from nnbuilder.cli.progress import ProgressPrinter
    from nnbuilder.runs.workflow import train_from_spec

    spec = _spec_from_args(args)
    df, read_warnings = _read_table(args.data)
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())  # Ctrl-C keeps the best model so far
    try:
        trained = train_from_spec(df, spec, device=args.device, observers=[ProgressPrinter()], cancel=cancel)
    finally:
        signal.signal(signal.SIGINT, previous)
    for warning in trained.warnings:
        print(f"warning: {warning.message}", file=sys.stderr)
    trained.warnings = read_warnings + trained.warnings
    out = Path(args.out) if args.out else Path("runs") / f"{_slug(trained.prepared.target)}-{time.strftime('%Y%m%d-%H%M%S')}"
    save_bundle(trained, out)
    summary = trained.summary() | {"bundle": str(out)}
    print(json.dumps(summary, default=str))
    return 0


def _resume(args) -> int:
    from nnbuilder.cli.resume import resume

    return resume(args)


def _predict(args) -> int:
    from nnbuilder.bundle.bundle import load_bundle

    bundle = load_bundle(args.bundle)
    df, _ = _read_table(args.data)
    return _write_rows(bundle.predict(df), args.out)


def _generate(args) -> int:
    from nnbuilder.bundle.bundle import load_bundle

    if args.rows < 1:
        return _fail(f"--rows must be at least 1; got {args.rows}")
    if args.seed < 0:
        return _fail(f"--seed must be 0 or more; got {args.seed}")
    return _write_rows(load_bundle(args.bundle).generate(args.rows, seed=args.seed), args.out)


def _write_rows(rows, out: str | None) -> int:
    """A CSV to `out` (then one JSON line saying where), or to stdout."""
    if out:
        rows.to_csv(out, index=False)
        print(json.dumps({"rows": len(rows), "out": out}))
    else:
        rows.to_csv(sys.stdout, index=False)
    return 0


def _serve(args) -> int:
    from nnbuilder.serve.app import serve

    if not 1 <= args.port <= 65535:
        return _fail(f"--port must be from 1 to 65535; got {args.port}")
    if args.max_rows < 1:
        return _fail(f"--max-rows must be at least 1; got {args.max_rows}")
    serve(args.bundle, host=args.host, port=args.port, max_rows=args.max_rows)  # until Ctrl-C
    return 0


def _export(args) -> int:
    from nnbuilder.bundle.bundle import load_bundle
    from nnbuilder.export.formats import export_bundle

    bundle = load_bundle(args.bundle)
    out = Path(args.out) if args.out else Path(Path(args.bundle).stem + EXPORT_FORMATS[args.format].suffix)
    check_rows = _read_table(args.check_data)[0] if args.check_data else None
    written = export_bundle(bundle, args.format, out, check_rows=check_rows)
    print(f"wrote {written} ({written.stat().st_size / 1024:,.0f} KB, {args.format})", file=sys.stderr)
    return 0


def _inspect(args) -> int:
    from nnbuilder.tasks import describe_network, prepare

    spec = _spec_from_args(args)
    df, _ = _read_table(args.data)
    prepared = prepare(df, spec.data, seed=spec.training.seed, input=spec.input)
    rows = describe_network(spec, prepared)
    total = sum(row.parameters for row in rows)
    if args.json:
        print(json.dumps({"task": prepared.task, "layers": [r.to_dict() for r in rows], "total_parameters": total}))
        return 0
    print(f"task: {prepared.task}   input: {rows[0].detail} {rows[0].output_shape}")
    print(f"{'layer':<20}{'output shape':<16}{'parameters':>12}  detail")
    for row in rows:
        print(f"{row.name:<20}{str(row.output_shape):<16}{row.parameters:>12,}  {row.detail}")
    print(f"total parameters: {total:,}")
    return 0


def _datasets(args) -> int:
    from nnbuilder.data.datasets import list_datasets

    for info in list_datasets():
        print(f"sample:{info.name:<16} target={info.target!s:<12} {info.description}")
    return 0


def _slug(target) -> str:
    text = "-".join(target) if isinstance(target, (list, tuple)) else str(target)
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)[:40] or "model"
