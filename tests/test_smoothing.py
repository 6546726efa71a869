import pytest
import torch
from torch import nn
from transformers import BertConfig, BertModel

from models.smoothing import SmoothedLinear, feed_forward_linears, input_absmax, smooth_feed_forward

OUTLIER = 0  # the channel ToyEncoder makes 50x larger than the rest, like the outlier channels of real encoders


class ToyEncoder(nn.Module):
    """Embeddings with one outlier channel feeding a feed-forward linear named like BERT's."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embeddings = nn.Embedding(12, 8)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(8, 5)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.embeddings(input_ids).clone()
        hidden[..., OUTLIER] *= 50
        return self.intermediate.dense(hidden)


def _batch(ids: list[list[int]], mask: list[list[int]] | None = None) -> dict[str, torch.Tensor]:
    input_ids = torch.tensor(ids)
    return {"input_ids": input_ids, "attention_mask": torch.tensor(mask) if mask else torch.ones_like(input_ids)}


def test_smoothed_linear_computes_the_same_function():
    torch.manual_seed(1)
    linear = nn.Linear(6, 3)
    smoothed = SmoothedLinear(linear, torch.rand(6) * 10 + 0.1)
    x = torch.randn(4, 7, 6)
    torch.testing.assert_close(smoothed(x), linear(x), atol=1e-5, rtol=1e-5)


def test_smoothing_evens_out_the_outlier_channel_without_changing_outputs():
    encoder = ToyEncoder()
    batches = [_batch([[1, 2, 3, 4], [5, 6, 7, 8]])]
    before = encoder(**batches[0]).detach()
    spread_before = _channel_spread(encoder, batches)
    assert smooth_feed_forward(encoder, batches) == 1
    assert isinstance(encoder.intermediate.dense, SmoothedLinear)
    torch.testing.assert_close(encoder(**batches[0]).detach(), before, atol=1e-4, rtol=1e-4)
    assert _channel_spread(encoder, batches, smoothed=True) < spread_before / 3


def _channel_spread(encoder: ToyEncoder, batches: list[dict], smoothed: bool = False) -> float:
    """Largest over median per-channel input magnitude of the linear: what per-tensor int8 scaling suffers from."""
    absmax = input_absmax(encoder, ["intermediate.dense"], batches)["intermediate.dense"]
    if smoothed:
        absmax = absmax * encoder.intermediate.dense.inv_scale
    return float(absmax.max() / absmax.median())


def test_input_absmax_ignores_padding():
    encoder = ToyEncoder()
    with torch.no_grad():
        encoder.embeddings.weight[0] = 1000.0  # token 0 is padding here: it must not set any scale
    padded = _batch([[1, 2, 0, 0]], [[1, 1, 0, 0]])
    unpadded = _batch([[1, 2]])
    found = input_absmax(encoder, ["intermediate.dense"], [padded])["intermediate.dense"]
    expected = input_absmax(encoder, ["intermediate.dense"], [unpadded])["intermediate.dense"]
    torch.testing.assert_close(found, expected)


@pytest.mark.parametrize("layers", [1, 2])
def test_bert_feed_forward_linears_are_smoothed_and_attention_is_left_alone(layers):
    config = BertConfig(
        vocab_size=30, hidden_size=16, num_hidden_layers=layers, num_attention_heads=2, intermediate_size=24
    )
    encoder = BertModel(config, add_pooling_layer=False).eval()
    names = feed_forward_linears(encoder)
    assert len(names) == 2 * layers and not any("attention" in name for name in names)
    batch = _batch([[2, 5, 7, 9, 3]])
    with torch.no_grad():
        before = encoder(**batch).last_hidden_state
        assert smooth_feed_forward(encoder, [batch]) == 2 * layers
        after = encoder(**batch).last_hidden_state
    torch.testing.assert_close(after, before, atol=1e-4, rtol=1e-4)
