"""Training samples/s: our training path versus a plain ``transformers.Trainer`` with default arguments.

Same model architecture, same case units, same device, one run. Our path = ``training.train.build_trainer``
(length-grouped batches with dynamic padding over token windows, frozen embeddings/lower layers, no attention
dropout, two learning rates, bf16 and a fused optimizer on GPUs, optional torch.compile). The plain Trainer gets the
same multi-task model with every unit padded to ``max_length`` and TrainingArguments' defaults. A third run is our path
with the base model's attention dropout, which is what ``model.attention_dropout: 0`` buys.

    python benchmarks/train_throughput.py                      # CPU, embedded base model, authored units
    python benchmarks/train_throughput.py --data ../shared/data/real-train   # real units (longer: several windows)
    python benchmarks/train_throughput.py --shape bert-base    # random bert-base-chinese-shaped model (for GPUs)
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import torch
from datasets import Dataset
from transformers import BertConfig, BertModel, BertTokenizerFast, Trainer, TrainingArguments

from data.formats import load_cases
from data.labels import LabelSet
from data.normalize import normalize
from training.config import load_config
from training.train import build_model, build_trainer


def random_bert_base(directory: Path) -> str:
    """A randomly initialised encoder of bert-base-chinese's shape (12 layers, hidden 768, vocab 21,128)."""
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [chr(0x4E00 + i) for i in range(21128 - 5)]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(directory / "vocab.txt"))
    BertModel(BertConfig(vocab_size=21128), add_pooling_layer=False).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return str(directory)


def timed(trainer: Trainer, steps: int) -> float:
    """Samples/s over ``steps`` steps after one warm-up step (compilation and allocator warm-up excluded)."""
    trainer.args.max_steps = 1
    trainer.train()
    trainer.args.max_steps = steps
    start = time.perf_counter()
    trainer.train()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return steps * trainer.args.per_device_train_batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", choices=["embedded", "bert-base"], default="embedded")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--compile", action="store_true", help="torch.compile our path")
    parser.add_argument("--data", default="corpus", help="the case units to train on (default: the authored corpus)")
    args = parser.parse_args()
    label_set = LabelSet.load()
    cases, _ = load_cases([args.data], label_set)
    cases = cases[: args.steps * args.batch_size * 2]
    with tempfile.TemporaryDirectory() as tmp:
        base = "embedded" if args.shape == "embedded" else random_bert_base(Path(tmp))
        config = load_config(
            None,
            [
                "--model.base_model",
                base,
                "--training.batch_size",
                str(args.batch_size),
                "--data.max_length",
                str(args.max_length),
                "--data.stride",
                str(args.max_length // 4),
                "--model.rule_fusion",
                "false",
                "--training.torch_compile",
                str(args.compile).lower(),
                "--training.output_dir",
                f"{tmp}/ours",
            ],
        )
        model, tokenizer = build_model(config, label_set, cases)
        ours = build_trainer(config, label_set, model, tokenizer, cases, [], Path(tmp) / "ours")
        ours.args.save_strategy = "no"
        ours_rate = timed(ours, args.steps)

        dropout_config = dataclasses.replace(config, model=dataclasses.replace(config.model, attention_dropout=None))
        model, _ = build_model(dropout_config, label_set, cases)
        with_dropout = build_trainer(dropout_config, label_set, model, tokenizer, cases, [], Path(tmp) / "dropout")
        with_dropout.args.save_strategy = "no"
        dropout_rate = timed(with_dropout, args.steps)

        plain_config = dataclasses.replace(
            config,
            model=dataclasses.replace(config.model, freeze_layers=0, freeze_embeddings=False, attention_dropout=None),
        )
        plain_model, _ = build_model(plain_config, label_set, cases)
        texts = [normalize(c.text).text for c in cases]
        encoded = tokenizer(texts, truncation=True, max_length=args.max_length, padding="max_length")
        data = Dataset.from_dict(
            {
                "input_ids": encoded["input_ids"],
                "attention_mask": encoded["attention_mask"],
                "offense_labels": [label_set.offenses.index(c.offense) for c in cases],
                "penalty_labels": [[float(p in c.penalties) for p in label_set.penalties] for c in cases],
                "party_labels": [label_set.parties.index(c.party) for c in cases],
            }
        )
        plain_args = TrainingArguments(
            output_dir=f"{tmp}/plain",
            per_device_train_batch_size=args.batch_size,
            report_to=[],
            save_strategy="no",
            label_names=["offense_labels", "penalty_labels", "party_labels"],
        )
        plain = Trainer(model=plain_model, args=plain_args, train_dataset=data)
        plain_rate = timed(plain, args.steps)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    print(
        f"device: {device}; model: {args.shape}; batch {args.batch_size}; "
        f"max_length {args.max_length}; {args.steps} steps; units from {args.data}"
    )
    print(f"plain Trainer (defaults, padded to max_length):    {plain_rate:8.1f} samples/s")
    print(f"our path with the base model's attention dropout:  {dropout_rate:8.1f} samples/s")
    print(f"our training path:                                 {ours_rate:8.1f} samples/s")
    print(
        f"ratio ours / plain: {ours_rate / plain_rate:.2f}x; attention dropout 0 vs the base model's: "
        f"{ours_rate / dropout_rate:.2f}x"
    )


if __name__ == "__main__":
    main()
