"""Export a fine-tuned multi-task model to ONNX (optionally int8-quantised) for fast CPU inference without PyTorch.

Only the window-level computation is exported: token ids and mask → offense, penalty and party logits per window.
Pooling the windows of one case unit depends on how many windows each unit has, which is data, not shape; it stays
outside the graph (``models.windows`` does it in numpy exactly as ``MultiTaskModel`` does in torch), so one
graph with dynamic batch and sequence axes serves every batch.

The steps: export with eager attention → onnxruntime's transformer optimizer fuses attention, embeddings, layer norms
and GELU into single kernels → for int8, feed-forward inputs are smoothed (``models.smoothing``) before export and
the matrix multiplications quantised per channel. Each step is what makes the next one pay: without the fused
attention a fifth of the int8 model's time went to mask and softmax plumbing; without smoothing the int8 labels
drifted from PyTorch's.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import random
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import yaml
from torch import nn

from data.errors import ModelError, PenaltyError
from data.formats import load_cases
from data.labels import LabelSet
from models.encoding import encode_units, flatten_windows, pad_windows
from models.rules import RULES
from models.smoothing import ALPHA, smooth_feed_forward
from models.store import read_meta, write_meta

if TYPE_CHECKING:
    from models.bert_labeler import BertLabeler

logger = logging.getLogger(__name__)
ONNX = "onnx"
ONNX_NAME = "model.onnx"
INT8 = "int8"
INPUT_NAMES = ["input_ids", "attention_mask"]
OUTPUT_NAMES = ["offense_logits", "penalty_logits", "party_logits"]
# TorchScript's export of eager attention is the pattern onnxruntime's optimizer fuses; dynamo's is not (yet)
OPSETS = {"torchscript": 17, "dynamo": 18}
CALIBRATION_UNITS = 256  # case units whose activations set the smoothing scales; more changes the scales little


class WindowLogits(nn.Module):
    """``MultiTaskModel.window_logits`` as a module's ``forward``, which is what the ONNX exporters trace.

    Why not trace ``MultiTaskModel`` itself: its per-unit pooling sizes its output with ``unit_index.max() + 1``, a
    value read from the data, which an exported graph would freeze.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.model.window_logits(input_ids, attention_mask)


def default_output_dir(model_dir: Path, quantize: str | None) -> Path:
    """``MODEL/onnx`` or ``MODEL/onnx-int8``: beside the weights they came from."""
    return Path(model_dir) / (f"{ONNX}-{quantize}" if quantize else ONNX)


def export_onnx(
    model_dir: Path, out_dir: Path | None = None, quantize: str | None = None, calibration: Sequence[str] = ()
) -> Path:
    """Write a self-contained ONNX model directory that ``Predictor.from_pretrained`` loads.

    The directory holds ``model.onnx``, the tokenizer files, ``labels.yaml`` and a ``penalty.yaml`` whose thresholds,
    windows and label fingerprint are copied from the source model, so the ONNX model labels exactly like it.

    Args:
        model_dir: a fine-tuned model directory (``model_type: bert``) written by ``penalty train``.
        out_dir: where to write; default ``MODEL/onnx`` or ``MODEL/onnx-int8``.
        quantize: ``None`` for fp32, ``"int8"`` for onnxruntime dynamic quantisation (int8 weights per channel, int8
            activations scaled per batch).
        calibration: annotation files or directories whose case texts calibrate the int8 smoothing; default the
            model's own training data (``data.train`` of its ``config.yaml``). Labels are not used.

    Returns:
        The output directory.

    Raises:
        ModelError: the source is not a fine-tuned transformer model, cannot be loaded, has no calibration data, or
            the export fails.
    """
    if str(model_dir) == RULES:
        raise ModelError("the rule baseline has no weights to export; give a model directory from 'penalty train'")
    model_dir = Path(model_dir)
    if quantize not in (None, INT8):
        raise ModelError(f"unknown quantisation {quantize!r}; use {INT8!r} or none")
    meta, label_set = read_meta(model_dir)
    if meta["model_type"] != "bert":
        raise ModelError(
            f"{model_dir}: only fine-tuned transformer models (model_type 'bert') can be exported to ONNX, "
            f"this one is {meta['model_type']!r}"
        )
    from models.bert_labeler import BertLabeler

    windows = meta.get("windows", {})
    labeler = BertLabeler.load(model_dir, label_set, windows.get("max_length", 256), windows.get("stride", 64))
    model = labeler.model.float().eval()
    _use_eager_attention(model.encoder)
    export: dict = {"source_model": str(model_dir.resolve()), "quantize": quantize}
    if quantize == INT8:
        texts, origin = _calibration_texts(model_dir, calibration, label_set)
        batches = _calibration_batches(labeler, texts)
        smoothed = smooth_feed_forward(model.encoder, batches)
        export["calibration"] = {"data": origin, "units": len(texts), "smoothed_linears": smoothed, "alpha": ALPHA}
    out_dir = Path(out_dir) if out_dir else default_output_dir(model_dir, quantize)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as scratch:
        raw, fused = Path(scratch) / "raw.onnx", Path(scratch) / "fused.onnx"
        export["exporter"] = _export_graph(model, labeler.tokenizer, raw)
        export["opset"] = OPSETS[export["exporter"]]
        export["fused_operators"] = _fuse_operators(raw, fused, model.encoder.config)
        if quantize == INT8:
            _quantize_int8(fused, out_dir / ONNX_NAME)
        else:
            shutil.move(fused, out_dir / ONNX_NAME)
    labeler.tokenizer.save_pretrained(out_dir)
    export |= {name: _version(name) for name in ("onnx", "onnxruntime", "onnxscript")}
    # thresholds, windows, fusion weights and the label fingerprint are the source model's: the export labels like it
    extra = {
        "windows": windows,
        "rule_fusion": meta.get("rule_fusion") or {},
        "rule_rates": meta.get("rule_rates") or {},
        "calibration": meta.get("calibration") or {},
        "export": export,
    }
    extra["source_summary"] = meta.get("summary", {})
    write_meta(out_dir, ONNX, label_set, meta.get("penalty_thresholds") or {}, extra)
    logger.info("exported %s to %s (%s)", model_dir, out_dir / ONNX_NAME, quantize or "fp32")
    return out_dir


def _use_eager_attention(encoder: nn.Module) -> None:
    """Switch to the plain-matmul attention whose exported pattern onnxruntime fuses into one Attention kernel.

    Why: the default (scaled-dot-product) attention exports as a chain of masks, ``Where`` and ``IsNaN`` nodes that
    no optimizer recognises; they took a fifth of the int8 model's time. Both implementations compute the same thing.
    """
    try:
        encoder.set_attn_implementation("eager")
    except (AttributeError, ValueError) as err:  # an architecture without the switch keeps its own attention
        logger.info("keeping the encoder's attention implementation: %s", err)


def _calibration_texts(model_dir: Path, specs: Sequence[str], label_set: LabelSet) -> tuple[list[str], list[str]]:
    """Up to ``CALIBRATION_UNITS`` case texts (a fixed-seed sample) and the data they came from."""
    if not specs:
        config_path = model_dir / "config.yaml"
        try:
            specs = yaml.safe_load(config_path.read_text(encoding="utf-8"))["data"]["train"]
        except (OSError, yaml.YAMLError, KeyError, TypeError) as err:
            message = f"{config_path}: no training data to calibrate int8 with ({err}); give --calibration"
            raise ModelError(message) from err
    try:
        cases, _problems = load_cases(specs, label_set)
    except PenaltyError as err:
        raise ModelError(f"cannot read the int8 calibration data {list(specs)}: {err}; give --calibration") from err
    if not cases:
        raise ModelError(f"no case units in the int8 calibration data {list(specs)}; give --calibration")
    texts = [case.text for case in cases]
    random.Random(0).shuffle(texts)
    return texts[:CALIBRATION_UNITS], [str(spec) for spec in specs]


def _calibration_batches(
    labeler: BertLabeler, texts: list[str], batch_size: int = 16
) -> Iterator[dict[str, torch.Tensor]]:
    """The calibration texts windowed and padded exactly as at prediction time."""
    windows, _ = flatten_windows(encode_units(labeler.tokenizer, texts, labeler.max_length, labeler.stride))
    for begin in range(0, len(windows), batch_size):
        input_ids, attention_mask = pad_windows(windows[begin : begin + batch_size], labeler.tokenizer.pad_token_id)
        yield {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(attention_mask)}


def _export_graph(model: nn.Module, tokenizer, path: Path) -> str:
    """Export the window graph with dynamic batch and sequence axes; returns which exporter produced it.

    Why TorchScript first: its graph of eager attention is the one onnxruntime's optimizer fuses (see
    ``_fuse_operators``). The dynamo exporter is the fallback for encoders TorchScript cannot trace; its graph runs
    the same, only with less fusion.
    """
    wrapper = WindowLogits(model).eval()
    sample = tokenizer(["样例文本", "较长的样例文本，用于导出"], padding=True, return_tensors="pt")
    args = (sample["input_ids"], sample["attention_mask"])
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES} | {name: {0: "batch"} for name in OUTPUT_NAMES}
    try:
        with warnings.catch_warnings():
            # Tracing warns that the attention mask's shape checks become constants and that the mask is built with
            # advanced indexing; both hold for every input here (mask and ids always share one shape, no negative
            # indices), and tests/test_export.py compares the export with PyTorch on several shapes.
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", message=".*aten::index.*", category=UserWarning)
            warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
            torch.onnx.export(
                wrapper,
                args,
                str(path),
                input_names=INPUT_NAMES,
                output_names=OUTPUT_NAMES,
                opset_version=OPSETS["torchscript"],
                dynamo=False,
                dynamic_axes=axes,
            )
        return "torchscript"
    except Exception as err:  # any tracing failure (unsupported op, data-dependent control flow): try dynamo
        logger.warning("TorchScript ONNX export failed (%s); trying the dynamo exporter", err)
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    shapes = {"input_ids": {0: batch, 1: sequence}, "attention_mask": {0: batch, 1: sequence}}
    try:
        program = torch.onnx.export(
            wrapper,
            args,
            input_names=INPUT_NAMES,
            output_names=OUTPUT_NAMES,
            opset_version=OPSETS["dynamo"],
            dynamo=True,
            dynamic_shapes=shapes,
            external_data=False,
            optimize=True,
            verbose=False,
        )
        program.save(str(path), external_data=False)
    except Exception as err:
        raise ModelError(f"ONNX export failed with both exporters: {err}") from err
    return "dynamo"


def _fuse_operators(source: Path, target: Path, config) -> dict[str, int]:
    """onnxruntime's transformer optimizer (what Optimum's ORTOptimizer runs); returns the fused operator counts.

    Fuses attention, embeddings + layer norm, residual + layer norm and bias + GELU into single CPU kernels. A graph
    it cannot fuse (an unfamiliar architecture) is used as exported.
    """
    from onnxruntime.transformers.optimizer import optimize_model

    try:
        with _quiet_onnxruntime():
            optimized = optimize_model(
                str(source),
                model_type="bert",
                num_heads=getattr(config, "num_attention_heads", 0),
                hidden_size=getattr(config, "hidden_size", 0),
            )
            optimized.save_model_to_file(str(target))
            fused = optimized.get_fused_operator_statistics()
    except Exception as err:  # the optimizer only speeds things up; the exported graph is correct without it
        logger.warning("onnxruntime's transformer optimizer failed (%s); using the graph as exported", err)
        shutil.copy(source, target)
        return {}
    return {name: count for name, count in fused.items() if count}


def _quantize_int8(source: Path, target: Path) -> None:
    """Dynamic quantisation: int8 weights per output channel, activations quantised on the fly per batch.

    Why dynamic, not static: static quantisation fixes activation ranges from a calibration set, and the ranges of
    these encoders vary from window to window; the smoothing already uses calibration data where it pays. Only the
    encoder's matrix multiplications (MatMul, fused Attention) are quantised: the heads (Gemm) and the embedding
    tables stay fp32, they cost little time and carry the labels' fine distinctions.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    try:
        with _quiet_onnxruntime():
            quantize_dynamic(
                str(source),
                str(target),
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul", "Attention"],
                # the fused graph has contrib operators shape inference cannot type; their tensors are float
                extra_options={"MatMulConstBOnly": True, "DefaultTensorType": onnx.TensorProto.FLOAT},
            )
    except Exception as err:
        raise ModelError(f"int8 quantisation failed: {err}; export without --quantize instead") from err


@contextlib.contextmanager
def _quiet_onnxruntime() -> Iterator[None]:
    """Silence onnxruntime's tools: they log every fusion and tensor at INFO, and a pre-processing hint that does not
    apply to a fused graph at WARNING, through loggers they configure themselves. Their failures still raise."""
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"
