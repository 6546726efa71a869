"""``penalty``: find and label the case units of Chinese cyber-security enforcement bulletins.

Each subcommand parses its options and calls one library function; results go to stdout (JSONL) or ``-o``,
logs and progress to stderr. Exit codes: 0 success, 1 expected failure (bad file, unknown label, bad config),
2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from data.errors import PenaltyError
from data.labels import DEFAULT_LANG, LANGS

if TYPE_CHECKING:  # the subcommands import what they use, so `penalty --help` stays fast
    from data.labels import LabelSet
    from models.predictor import Predictor

logger = logging.getLogger("penalty")


def _label_set(args: argparse.Namespace) -> LabelSet:
    from data.labels import LabelSet

    return LabelSet.load(args.label_set)


def _predictor(args: argparse.Namespace, model: str) -> Predictor:
    return _predictor_loader(args, model)()


def _predictor_loader(args: argparse.Namespace, model: str) -> Callable[[], Predictor]:
    """A model directory carries its own label set; only ``rules`` takes ``--label-set``. A loader rather than the
    Predictor, so that ``--engine ray`` can send it to each actor, which loads its own."""
    from models.predictor import Predictor
    from models.rules import RULES

    segmenter = getattr(args, "segmenter", "auto")
    label_set = _label_set(args) if model == RULES else None
    return functools.partial(Predictor.from_pretrained, model, label_set, segmenter=segmenter)


def run_segment(args: argparse.Namespace) -> int:
    """Write the case units of each bulletin as JSONL; failed inputs become error records."""
    from data.inputs import InputFailure, read_inputs
    from data.output import RecordWriter
    from models.segmenters import load_segmenter

    segmenter = load_segmenter(args.segmenter)
    failed = 0
    with RecordWriter(args.output) as out:
        for item in read_inputs(args.inputs):
            if isinstance(item, InputFailure):
                failed += 1
                out.write(item.to_dict())
                continue
            units = segmenter.segment_many([(item.text, item.source, item.body_start)])[0]
            if not units:
                out.write({"source": item.source, "case": None, "note": "no case units found"})
            for unit in units:
                out.write(unit.to_dict())
    return 1 if failed else 0


def run_predict(args: argparse.Namespace) -> int:
    """Label bulletins (or, with --units, the texts of a gold-format file) and print a summary."""
    if args.engine == "ray":
        return _run_predict_on_ray(args)
    if args.format or args.workers or args.ray_address:
        raise PenaltyError("--format, --workers and --ray-address are options of --engine ray")
    from data.inputs import parse_shard
    from data.output import RecordWriter
    from models.batch import BatchSummary, predict_bulletin_files, predict_unit_file

    predictor = _predictor(args, args.model)
    summary = BatchSummary()
    shard = parse_shard(args.shard) if args.shard else None
    with RecordWriter(args.output, readable=args.readable, probabilities=predictor.probabilities) as out:
        if args.units:
            records = (r for path in args.inputs for r in predict_unit_file(predictor, path, summary, args.lang))
        else:
            records = predict_bulletin_files(predictor, args.inputs, summary, shard, args.lang)
        for record in records:
            out.write(record)
    logger.info("%s", summary.describe())
    return 1 if summary.failed else 0


def _run_predict_on_ray(args: argparse.Namespace) -> int:
    """``--engine ray``: the same records, written as shards into the ``-o`` directory (models/ray_engine.py)."""
    if not args.output:
        raise PenaltyError("--engine ray writes shards into a directory: give one with -o DIR")
    if args.units or args.readable or args.shard:
        raise PenaltyError("--units, --readable and --shard are options of the local engine (Ray shards the inputs)")
    from models.ray_engine import predict_on_ray

    summary = predict_on_ray(
        _predictor_loader(args, args.model),
        args.inputs,
        args.output,
        shard_format=args.format or "jsonl",
        workers=args.workers or 1,
        lang=args.lang,
        address=args.ray_address,
    )
    logger.info("%s", summary.describe())
    return 1 if summary.failed else 0


def run_annotate(args: argparse.Namespace) -> int:
    """Write annotation tasks pre-filled with a model's case units and labels; the summary goes to stderr."""
    from data.formats import label_studio_config
    from data.tasks import write_tasks
    from models.annotate import pre_annotate

    if args.select is not None and args.select < 1:
        raise PenaltyError(f"--select takes the number of bulletins to keep (1 or more), found {args.select}")
    predictor = _predictor(args, args.model)
    if args.labelstudio_config:
        config = label_studio_config(predictor.label_set, args.lang, bulletin=args.task_per == "bulletin")
        Path(args.labelstudio_config).write_text(config, encoding="utf-8")
    result = pre_annotate(predictor, args.inputs, args.select, args.strategy, args.seed)
    count = write_tasks(result.bulletins, args.output, args.format, predictor.name, per=args.task_per)
    logger.info(
        "%s; written to %s (%s): %d task(s), one per %s",
        result.describe(),
        args.output,
        args.format,
        count,
        args.task_per,
    )
    return 1 if result.failed else 0


def run_train(args: argparse.Namespace) -> int:
    """Train with the YAML config plus dotted overrides."""
    from training.config import DEFAULT_CONFIG, load_config
    from training.train import train

    init_from = ["--training.init_from", args.init_from] if args.init_from else []
    config = load_config(args.config or DEFAULT_CONFIG, args.overrides + init_from)
    if args.task == "segment":
        from training.train_segmenter import train_segmenter

        out, summary = train_segmenter(config, resume=args.resume)
        print(json.dumps({"segmenter_dir": str(out)} | summary, ensure_ascii=False))
        return 0
    result = train(config, resume=args.resume)
    print(json.dumps({"model_dir": str(result.model_dir)} | result.summary, ensure_ascii=False))
    return 0


def run_adapt(args: argparse.Namespace) -> int:
    """Continue masked-LM pre-training of the base encoder on unlabelled bulletins; prints the output and counts."""
    from training.adapt import AdaptRunConfig, adapt
    from training.config import load_config

    output = ["--adapt.output_dir", args.output_dir] if args.output_dir else []
    config = load_config(args.config, args.overrides + output, AdaptRunConfig)
    with contextlib.redirect_stdout(sys.stderr):  # the Trainer writes its loss logs to stdout: keep it for the result
        result = adapt(config, args.data, resume=args.resume)
    print(json.dumps({"model_dir": str(result.model_dir)} | result.summary, ensure_ascii=False))
    return 0


def run_validate(args: argparse.Namespace) -> int:
    """Check annotation files against the label set; every problem is printed as file:line."""
    from data.formats import read_annotations

    label_set = _label_set(args)
    problems = 0
    for path in args.files:
        try:
            loaded = read_annotations(path, label_set)
        except PenaltyError as err:
            print(f"{err}", file=sys.stderr)
            problems += 1
            continue
        for problem in loaded.problems:
            print(problem, file=sys.stderr)
        problems += len(loaded.problems)
        print(f"{path}: {len(loaded.cases)} valid case unit(s), {len(loaded.problems)} problem(s)")
    return 1 if problems else 0


def run_convert(args: argparse.Namespace) -> int:
    """Convert annotations between gold JSONL, Label Studio JSON and doccano JSONL."""
    from data.formats import label_studio_config, read_annotations, write_annotations

    label_set = _label_set(args)
    if args.labelstudio_config:
        Path(args.labelstudio_config).write_text(label_studio_config(label_set), encoding="utf-8")
    loaded = read_annotations(args.input, label_set, args.source_format)
    for problem in loaded.problems:
        print(problem, file=sys.stderr)
    count = write_annotations(loaded.cases, args.output, args.to)
    print(f"wrote {count} case unit(s) to {args.output} ({args.to}); {len(loaded.problems)} problem(s)")
    return 1 if loaded.problems else 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Score one or more models on the same annotated data; print the comparison table, write reports."""
    from eval.harness import evaluate_predictors

    predictors = {name: _predictor(args, name) for name in args.model}
    result = evaluate_predictors(
        predictors,
        args.data,
        _label_set(args),
        Path(args.report) if args.report else None,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
        lang=args.lang,
    )
    print(result["table"])
    return 0


def run_compare(args: argparse.Namespace) -> int:
    """List the units two models label differently (fix / regression against gold); the summary goes to stderr."""
    from data.output import RecordWriter
    from eval.compare import CHANGE_COLUMNS, compare_predictors

    if len(args.model) != 2:
        raise PenaltyError(f"compare takes two models, --model OLD --model NEW; found {len(args.model)}")
    if args.output and Path(args.output).suffix.lower() == ".txt":
        raise PenaltyError(f"-o {args.output}: changes are written as .jsonl, .csv or .xlsx")
    old, new = (_predictor(args, name) for name in args.model)
    comparison = compare_predictors(old, new, args.data, _label_set(args), names=(args.model[0], args.model[1]))
    with RecordWriter(args.output, columns=CHANGE_COLUMNS) as out:
        for change in comparison.changes:
            out.write(change.to_record())
    print(comparison.describe(), file=sys.stderr)
    return 1 if comparison.failed else 0


def run_cv(args: argparse.Namespace) -> int:
    """Cross-validation grouped by bulletin; prints per-fold and mean figures as JSON."""
    from training.config import DEFAULT_CONFIG, load_config
    from training.cv import cross_validate

    config = load_config(args.config or DEFAULT_CONFIG, args.overrides)
    if args.task == "segment":
        from training.segment_cv import cross_validate_segmenter

        summary = cross_validate_segmenter(config, args.data, args.folds, args.output_dir)
        print(json.dumps(summary, ensure_ascii=False, indent=1))
        return 0
    summary = cross_validate(
        config, args.data, args.folds, not args.no_rules, args.output_dir, add_train_data=args.add_train_data
    )
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Export a fine-tuned model to ONNX (optionally int8-quantised) for fast CPU inference."""
    from models.export import export_onnx

    output = Path(args.output) if args.output else None
    print(export_onnx(Path(args.model), output, quantize=args.quantize, calibration=args.calibration or ()))
    return 0


def run_serve(args: argparse.Namespace) -> int:
    """Serve the labelling page and JSON API with uvicorn."""
    import uvicorn

    from web.app import create_app

    app = create_app(_predictor(args, args.model), lang=args.lang, max_batch_bytes=int(args.max_upload_mb * 1e6))
    uvicorn.run(app, host=args.host, port=args.port)
    return 0


def run_prepare(args: argparse.Namespace) -> int:
    """Convert the embedded base model into the cache (done automatically on first use otherwise)."""
    from models.embedded import embedded_model_dir

    print(embedded_model_dir())
    return 0


def _describe_config_keys(schema: type | None = None, base: str = "configs/default.yaml") -> str:
    """Every ``--section.key`` override of a command (``train`` and ``cv``: ``RunConfig``), with its default and the
    help text its dataclass field carries (training/config.py), so ``--help`` lists what a config file may set."""
    import dataclasses

    from training.config import RunConfig

    lines = [f"configuration keys (--section.key VALUE overrides {base}; [dataclass default]):"]
    defaults = (schema or RunConfig)()
    for section in dataclasses.fields(defaults):
        values = getattr(defaults, section.name)
        for option in dataclasses.fields(values):
            default = getattr(values, option.name)
            lines.append(f"  --{section.name}.{option.name} [{default}]")
            lines.append(f"      {option.metadata.get('help', '')}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="penalty", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and tracebacks")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only, no progress bars")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler, help_text: str, example: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help_text,
            description=f"{help_text}\n\nexample:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(run=handler)
        return sub

    def label_set_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--label-set", help="label-set YAML (default: the spec's label set)")

    def lang_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--lang",
            choices=LANGS,
            default=DEFAULT_LANG,
            help="label names people read: 'zh' the label set's Chinese names (identifiers where it has none), "
            "'en' the identifiers; identifier fields are always written too (default: zh)",
        )

    def segmenter_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--segmenter",
            default="auto",
            help="'auto' (the model's trained segmenter, else $PENALTY_SEGMENTER, else runs/default/segmenter, "
            "else the rules), 'rules', or a directory from 'penalty train --task segment'",
        )

    def task_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--task", choices=["label", "segment"], default="label", help="the labeler (default) or the segmenter"
        )

    sub = command(
        "segment", run_segment, "Split bulletins into case units.", "penalty segment bulletin.txt -o units.jsonl"
    )
    sub.add_argument("inputs", nargs="+", help="files, directories (recursive) or - for stdin")
    sub.add_argument("-o", "--output", help="output file (.jsonl, .csv, .xlsx); default stdout")
    segmenter_option(sub)

    sub = command(
        "predict",
        run_predict,
        "Label the case units of bulletins.",
        "penalty predict --model rules bulletins/ -o cases.jsonl",
    )
    sub.add_argument("inputs", nargs="+", help="files, directories (recursive) or - for stdin")
    sub.add_argument("--model", default="rules", help="'rules' or a model directory from 'penalty train'")
    sub.add_argument("--units", action="store_true", help="inputs are gold-format JSONL: label each line's text")
    sub.add_argument(
        "-o", "--output", help="output file (.jsonl, .csv, .xlsx); default stdout; with --engine ray a directory"
    )
    sub.add_argument("--shard", help="I/N: only this shard of the inputs (for splitting a crawl across machines)")
    sub.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="local: this process (default); ray: Ray Data actors (pip install '.[ray]') writing shards into -o DIR",
    )
    sub.add_argument("--workers", type=int, help="--engine ray: actors, one CPU and one Predictor each (default 1)")
    sub.add_argument(
        "--format", choices=["jsonl", "parquet"], help="--engine ray: part-NNNNN.jsonl shards (default) or .parquet"
    )
    sub.add_argument(
        "--ray-address",
        help="--engine ray: the cluster ('auto', 'ray://head:10001'); default $RAY_ADDRESS, else a local Ray",
    )
    sub.add_argument("--readable", action="store_true", help="a short human-readable block per case instead of JSONL")
    label_set_option(sub)
    segmenter_option(sub)
    lang_option(sub)

    sub = command(
        "annotate",
        run_annotate,
        "Write Label Studio or doccano tasks pre-filled with a model's case units and labels, to be corrected.",
        "penalty annotate --model runs/default crawl/ -o tasks.json --select 50 --labelstudio-config labeling.xml",
    )
    sub.add_argument("inputs", nargs="+", help="files, directories (recursive) or - for stdin")
    sub.add_argument("--model", default="rules", help="'rules' or a model directory from 'penalty train'")
    sub.add_argument("-o", "--output", required=True, help="the tasks file (Label Studio JSON or doccano JSONL)")
    sub.add_argument("--format", choices=["labelstudio", "doccano"], default="labelstudio")
    sub.add_argument(
        "--task-per",
        choices=["case", "bulletin"],
        default="case",
        help="case: one task per case unit (correct its labels); bulletin: one task per bulletin with a region per "
        "unit (also re-bound, add or delete units; --labelstudio-config then writes the per-region interface)",
    )
    sub.add_argument("--select", type=int, help="keep only N bulletins, picked by --strategy (default: all)")
    sub.add_argument(
        "--strategy",
        choices=["uncertainty", "diverse", "random"],
        default="uncertainty",
        help="uncertainty: the bulletins the model is least sure of; diverse: the least sure of each of N clusters "
        "of similar bulletins (KMeans over e5 token vectors, seeded by --seed); random: a sample seeded by --seed",
    )
    sub.add_argument("--seed", type=int, default=0, help="seed of --strategy random and diverse")
    sub.add_argument("--labelstudio-config", help="also write the Label Studio labelling interface (XML) here")
    label_set_option(sub)
    segmenter_option(sub)
    lang_option(sub)

    sub = command(
        "train",
        run_train,
        "Fine-tune a model (or the TF-IDF baseline) on annotated case units.",
        "penalty train --training.output_dir runs/m1 --training.learning_rate 5e-5",
    )
    sub.add_argument("--config", help="YAML config (default configs/default.yaml)")
    sub.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in output_dir")
    sub.add_argument(
        "--init-from",
        metavar="MODEL_DIR",
        help="start from this trained model's weights (encoder and heads; same label set) instead of the base "
        "model: sets training.init_from. Train on the original data plus the corrections, e.g. "
        "--data.train '[corpus, export.json]'",
    )
    task_option(sub)
    sub.epilog = _describe_config_keys()

    sub = command(
        "adapt",
        run_adapt,
        "Continue masked-LM pre-training of the base encoder on unlabelled bulletins (domain adaptation); "
        "pass the output to 'penalty train --model.base_model'.",
        "penalty adapt --data crawl/ --data corpus -o runs/adapted --adapt.max_steps 2000",
    )
    sub.add_argument(
        "--data",
        nargs="+",
        action="extend",
        required=True,
        help="bulletin files, directories (recursive) or 'corpus' (the authored bulletins); may be repeated",
    )
    sub.add_argument("-o", "--output-dir", help="where the adapted encoder goes (sets adapt.output_dir)")
    sub.add_argument("--config", help="YAML config with an 'adapt:' section (default: the dataclass defaults)")
    sub.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in output_dir")
    from training.adapt import AdaptRunConfig

    sub.epilog = _describe_config_keys(AdaptRunConfig, "--config, else the defaults")

    sub = command(
        "evaluate",
        run_evaluate,
        "Score models on annotated bulletins (end-to-end) or gold units.",
        "penalty evaluate --model rules --model runs/default --data ../shared/data/real --report reports/real",
    )
    sub.add_argument("--model", action="append", required=True, help="'rules' or a model directory; repeat to compare")
    sub.add_argument(
        "--data", action="append", required=True, help="annotated directory (txt + jsonl) or annotation file"
    )
    sub.add_argument("--report", help="write metrics.json, report.md and report.html here")
    sub.add_argument(
        "--bootstrap", type=int, default=1000, help="bootstrap resamples (by bulletin) for 95%% intervals"
    )
    sub.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    label_set_option(sub)
    segmenter_option(sub)
    lang_option(sub)

    sub = command(
        "compare",
        run_compare,
        "List the case units whose labels changed between two models (OLD, then NEW): old vs new vs gold, and "
        "whether each change is a fix or a regression; a summary line on stderr.",
        "penalty compare --model runs/m1 --model runs/m2 --data ../shared/data/real -o changes.csv",
    )
    sub.add_argument("--model", action="append", required=True, help="'rules' or a model directory: OLD, then NEW")
    sub.add_argument(
        "--data",
        action="append",
        required=True,
        help="gold data (annotated directory, annotation file, corpus): its gold units; or bulletins (files, "
        "directories): the units OLD's segmenter finds, without verdicts",
    )
    sub.add_argument("-o", "--output", help="changes file (.jsonl, .csv, .xlsx); default JSONL on stdout")
    label_set_option(sub)
    segmenter_option(sub)

    sub = command(
        "cv",
        run_cv,
        "Cross-validate grouped by bulletin (rules, TF-IDF or fine-tuned).",
        "penalty cv --folds 5 --data ../shared/data/real --model.model_type tfidf",
    )
    sub.add_argument("--data", action="append", required=True, help="annotated data to cross-validate on")
    sub.add_argument("--folds", type=int, default=5)
    sub.add_argument("--config", help="YAML config (default configs/default.yaml)")
    sub.add_argument("--no-rules", action="store_true", help="do not score the rule baseline on the same folds")
    sub.add_argument("--output-dir", default="runs/cv", help="where fold models go")
    sub.add_argument("--add-train-data", action="store_true", help="train each fold on its bulletins plus data.train")
    task_option(sub)
    sub.epilog = _describe_config_keys()

    sub = command(
        "export",
        run_export,
        "Export a fine-tuned model to ONNX.",
        "penalty export --model runs/default --quantize int8",
    )
    sub.add_argument("--model", required=True)
    sub.add_argument("--format", default="onnx", choices=["onnx"])
    sub.add_argument("--quantize", choices=["int8"], help="dynamic int8 quantisation of the exported model")
    sub.add_argument(
        "--calibration",
        nargs="+",
        metavar="DATA",
        help="annotation files/directories whose texts calibrate int8 (default: the model's training data)",
    )
    sub.add_argument("-o", "--output", help="output directory (default: MODEL/onnx or MODEL/onnx-int8)")

    sub = command("serve", run_serve, "Serve the labelling page and API.", "penalty serve --model rules --port 8000")
    sub.add_argument("--model", default="rules")
    sub.add_argument("--host", default="127.0.0.1")
    sub.add_argument("--port", type=int, default=8000)
    sub.add_argument(
        "--max-upload-mb",
        type=float,
        default=20.0,
        help="largest upload of several files or a .zip on the page (/predict/batch), in MB (default: 20)",
    )
    label_set_option(sub)
    segmenter_option(sub)
    lang_option(sub)

    data = commands.add_parser("data", help="Validate and convert annotations.")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    sub = data_commands.add_parser("validate", help="check annotation files; problems as file:line")
    sub.set_defaults(run=run_validate)
    sub.add_argument("files", nargs="+")
    label_set_option(sub)
    sub = data_commands.add_parser("convert", help="convert between gold JSONL, Label Studio JSON and doccano JSONL")
    sub.set_defaults(run=run_convert)
    sub.add_argument("input")
    sub.add_argument("output")
    sub.add_argument("--to", choices=["gold", "labelstudio", "doccano"], required=True)
    sub.add_argument(
        "--from", dest="source_format", default="auto", choices=["auto", "gold", "labelstudio", "doccano"]
    )
    sub.add_argument("--labelstudio-config", help="also write the Label Studio labelling interface (XML) here")
    label_set_option(sub)

    command("prepare", run_prepare, "Build the embedded base model into the cache.", "penalty prepare")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("train", "cv", "adapt"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.overrides = extra
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return args.run(args)
    except PenaltyError as err:  # only errors the user can fix; real bugs still raise
        if args.verbose:
            logger.exception("penalty %s failed", args.command)
        print(f"penalty {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
