from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from models.bert_labeler import BertLabeler
from models.encoding import WindowCollator, encode_units, pad_windows

# Short texts and long ones that span several 32-token windows, so pooling across windows is exercised.
TEXTS = [
    "某公司未备案。",
    "王某使用VPN翻墙，被处以罚款五百元。" * 6,
    "网站未落实保护制度。",
    "张某" * 90,
    "处以警告。",
]


@pytest.fixture(scope="module")
def labeler(tiny_base_dir: Path, tiny_multitask, label_set) -> BertLabeler:
    tokenizer = AutoTokenizer.from_pretrained(tiny_base_dir)
    return BertLabeler(tiny_multitask(), tokenizer, label_set, max_length=32, stride=8)


def test_window_batches_pool_like_the_model_pools_in_training(labeler):
    """Prediction batches windows across units and pools in numpy; training pools inside ``MultiTaskModel``."""
    windows = encode_units(labeler.tokenizer, TEXTS, labeler.max_length, labeler.stride)
    assert max(len(w) for w in windows) > 2
    batch = WindowCollator(labeler.tokenizer.pad_token_id)([{"input_ids": w} for w in windows])
    with torch.inference_mode():
        out = labeler.model(**batch)
    found = labeler.score_texts(TEXTS)
    for row, scores in enumerate(found):
        offense = out.offense_logits[row].softmax(-1).numpy()
        penalty = out.penalty_logits[row].sigmoid().numpy()
        np.testing.assert_allclose(list(scores.offense.values()), offense, atol=1e-5)
        np.testing.assert_allclose(list(scores.penalties.values()), penalty, atol=1e-5)


@pytest.mark.parametrize("batch_size", [1, 3])
def test_scores_do_not_depend_on_batch_size(labeler, batch_size):
    expected = labeler.score_texts(TEXTS)
    labeler.batch_size, default = batch_size, labeler.batch_size
    try:
        found = labeler.score_texts(TEXTS)
    finally:
        labeler.batch_size = default
    for want, got in zip(expected, found, strict=True):
        np.testing.assert_allclose(list(got.offense.values()), list(want.offense.values()), atol=1e-5)
        np.testing.assert_allclose(list(got.penalties.values()), list(want.penalties.values()), atol=1e-5)


def test_pad_windows_pads_to_longest_and_masks_padding():
    input_ids, attention_mask = pad_windows([[5, 6, 7], [8]], pad_token_id=0)
    assert input_ids.tolist() == [[5, 6, 7], [8, 0, 0]] and attention_mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    assert input_ids.dtype == np.int64 and attention_mask.dtype == np.int64


def test_no_texts_no_scores(labeler):
    assert labeler.score_texts([]) == []
