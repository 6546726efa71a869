"""Export a fine-tuned multi-task model to ONNX (optionally int8-quantised) for fast CPU inference without PyTorch.

Only the window-level computation is exported: token ids and mask → offense, penalty and party logits per window.
Pooling the windows of one case unit depends on how many windows each unit has, which is data, not shape; it stays
outside the graph (``models.onnx_labeler`` does it in numpy exactly as ``MultiTaskModel`` does in torch), so one
graph with dynamic batch and sequence axes serves every batch.
"""

from __future__ import annotations

import importlib.metadata
import logging
import shutil
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from data.errors import ModelError
from models.rules import RULES
from models.store import read_meta, write_meta

logger = logging.getLogger(__name__)
ONNX = "onnx"
ONNX_NAME = "model.onnx"
INT8 = "int8"
INPUT_NAMES = ["input_ids", "attention_mask"]
OUTPUT_NAMES = ["offense_logits", "penalty_logits", "party_logits"]
OPSET = 18  # the dynamo exporter's native opset; onnxruntime >= 1.16 runs it


class WindowLogits(nn.Module):
    """The part of ``MultiTaskModel.forward`` that sees one window at a time: encoder, token pooling and the heads.

    Why not trace ``MultiTaskModel`` itself: its per-unit pooling sizes its output with ``unit_index.max() + 1``, a
    value read from the data, which an exported graph would freeze. tests/test_export.py checks that this and the
    torch model agree, so a change to the model's pooling cannot drift silently.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        model = self.model
        hidden = model.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        if model.config.pooling == "cls":
            window = hidden[:, 0]
        else:
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            window = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
        return model.offense_head(window), model.penalty_head(window), model.party_head(window)


def default_output_dir(model_dir: Path, quantize: str | None) -> Path:
    """``MODEL/onnx`` or ``MODEL/onnx-int8``: beside the weights they came from."""
    return Path(model_dir) / (f"{ONNX}-{quantize}" if quantize else ONNX)


def export_onnx(model_dir: Path, out_dir: Path | None = None, quantize: str | None = None) -> Path:
    """Write a self-contained ONNX model directory that ``Predictor.from_pretrained`` loads.

    The directory holds ``model.onnx``, the tokenizer files, ``labels.yaml`` and a ``penalty.yaml`` whose thresholds,
    windows and label fingerprint are copied from the source model, so the ONNX model labels exactly like it.

    Args:
        model_dir: a fine-tuned model directory (``model_type: bert``) written by ``penalty train``.
        out_dir: where to write; default ``MODEL/onnx`` or ``MODEL/onnx-int8``.
        quantize: ``None`` for fp32, ``"int8"`` for onnxruntime dynamic quantisation (int8 weights, fp32 activations).

    Returns:
        The output directory.

    Raises:
        ModelError: the source is not a fine-tuned transformer model, cannot be loaded, or the export fails.
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
    out_dir = Path(out_dir) if out_dir else default_output_dir(model_dir, quantize)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as scratch:
        fp32_path = Path(scratch) / ONNX_NAME
        exporter = _export_graph(labeler.model, labeler.tokenizer, fp32_path)
        if quantize == INT8:
            _quantize_int8(fp32_path, out_dir / ONNX_NAME)
        else:
            shutil.move(fp32_path, out_dir / ONNX_NAME)
    labeler.tokenizer.save_pretrained(out_dir)
    export = {"source_model": str(model_dir.resolve()), "quantize": quantize, "exporter": exporter, "opset": OPSET}
    export |= {name: _version(name) for name in ("onnx", "onnxruntime", "onnxscript")}
    # thresholds, windows, fusion weights and the label fingerprint are the source model's: the export labels like it
    extra = {"windows": windows, "rule_fusion": meta.get("rule_fusion") or {}, "export": export}
    extra["source_summary"] = meta.get("summary", {})
    write_meta(out_dir, ONNX, label_set, meta.get("penalty_thresholds") or {}, extra)
    logger.info("exported %s to %s (%s)", model_dir, out_dir / ONNX_NAME, quantize or "fp32")
    return out_dir


def _export_graph(model: nn.Module, tokenizer, path: Path) -> str:
    """Export the window graph with dynamic batch and sequence axes; returns which exporter produced it.

    Why the dynamo exporter first: it is torch's default and maintained one. The TorchScript exporter is the fallback
    for encoders it cannot capture yet; both produce the same inputs and outputs.
    """
    wrapper = WindowLogits(model.float().eval()).eval()
    sample = tokenizer(["样例文本", "较长的样例文本，用于导出"], padding=True, return_tensors="pt")
    args = (sample["input_ids"], sample["attention_mask"])
    try:
        batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
        shapes = {"input_ids": {0: batch, 1: sequence}, "attention_mask": {0: batch, 1: sequence}}
        with warnings.catch_warnings():
            # both inputs share the Dims on purpose; torch warns once per input that the names are merged
            warnings.filterwarnings("ignore", message=".*axis name.*", category=UserWarning)
            program = torch.onnx.export(
                wrapper,
                args,
                input_names=INPUT_NAMES,
                output_names=OUTPUT_NAMES,
                opset_version=OPSET,
                dynamo=True,
                dynamic_shapes=shapes,
                external_data=False,
                optimize=True,
                verbose=False,
            )
            program.save(str(path), external_data=False)
        return "dynamo"
    except Exception as err:  # any capture failure (unsupported op, data-dependent shape): try the other exporter
        logger.warning("dynamo ONNX export failed (%s); falling back to the TorchScript exporter", err)
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES} | {name: {0: "batch"} for name in OUTPUT_NAMES}
    try:
        torch.onnx.export(
            wrapper,
            args,
            str(path),
            input_names=INPUT_NAMES,
            output_names=OUTPUT_NAMES,
            opset_version=OPSET,
            dynamo=False,
            dynamic_axes=axes,
        )
    except Exception as err:
        raise ModelError(f"ONNX export failed with both exporters: {err}") from err
    return "torchscript"


def _quantize_int8(source: Path, target: Path) -> None:
    """Dynamic quantisation: int8 weights (MatMul, Gather), activations quantised on the fly per batch.

    Why dynamic, not static: static quantisation needs a calibration set, and for transformer encoders on CPU the
    weight-heavy matrix multiplications are where int8 pays off; dynamic quantisation gets that without one.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = source.with_name("prepared.onnx")
    try:
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
    except Exception as err:  # pre-processing only helps; quantising the raw graph still works
        logger.warning("ONNX pre-processing before quantisation failed (%s); quantising the exported graph", err)
        prepared = source
    try:
        quantize_dynamic(str(prepared), str(target), weight_type=QuantType.QInt8)
    except Exception as err:
        raise ModelError(f"int8 quantisation failed: {err}; export without --quantize instead") from err


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"
