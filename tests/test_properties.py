"""Property tests (hypothesis): masks, padding invariance, reversal."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import keras_s2s
from keras_s2s.layers import BahdanauAttention, Encoder, LuongAttention
from keras_s2s.layers.encoder import reverse_padded

BAHDANAU = BahdanauAttention(6)
GENERAL = LuongAttention("general")
ENCODER = Encoder(20, 6, 5, bidirectional=True, num_layers=2, residual=True)
MODEL = keras_s2s.build_seq2seq(20, 12, embedding_dim=6, units=8, attention="bahdanau")
MODEL.get_layer("decoder").output_dense.kernel.assign(MODEL.get_layer("decoder").output_dense.kernel * 25)
GENERATOR = keras_s2s.build_inference_model(MODEL)

lengths = st.lists(st.integers(0, 7), min_size=1, max_size=5)


def padded_ids(lens, width, seed):
    rng = np.random.default_rng(seed)
    ids = np.zeros((len(lens), width), "int32")
    for i, n in enumerate(lens):
        ids[i, :n] = rng.integers(1, 20, size=n)
    return ids


@settings(max_examples=25, deadline=None)
@given(lens=lengths, queries=st.integers(1, 4), seed=st.integers(0, 10**6))
def test_attention_weights_sum_to_one_and_vanish_on_padding(lens, queries, seed):
    rng = np.random.default_rng(seed)
    width = 7
    mask = np.arange(width)[None, :] < np.array(lens)[:, None]
    query = rng.normal(size=(len(lens), queries, 6)).astype("float32") * 3
    value = rng.normal(size=(len(lens), width, 6)).astype("float32") * 3
    for layer in (BAHDANAU, GENERAL):
        _, weights = layer(query, value, value_mask=mask)
        weights = np.asarray(weights)
        assert np.all(weights[~np.broadcast_to(mask[:, None, :], weights.shape)] == 0.0)
        sums = weights.sum(-1)
        real = np.array(lens) > 0
        np.testing.assert_allclose(sums[real], 1.0, atol=1e-5)
        assert np.all(sums[~real] == 0.0)


@settings(max_examples=20, deadline=None)
@given(lens=st.lists(st.integers(1, 6), min_size=1, max_size=4), extra=st.integers(1, 5),
       seed=st.integers(0, 10**6))
def test_encoder_and_generate_invariant_to_extra_padding(lens, extra, seed):
    ids = padded_ids(lens, max(lens), seed)
    more = np.concatenate([ids, np.zeros((len(lens), extra), "int32")], axis=1)
    out, states, _ = ENCODER(ids)
    out_more, states_more, _ = ENCODER(more)
    np.testing.assert_allclose(np.asarray(out_more)[:, : ids.shape[1]], out, atol=1e-5)
    for a, b in zip(states, states_more):
        np.testing.assert_allclose(a, b, atol=1e-5)
    a = GENERATOR.generate(ids, max_length=5)
    b = GENERATOR.generate(more, max_length=5)
    np.testing.assert_array_equal(a["ids"], b["ids"])
    np.testing.assert_allclose(a["scores"], b["scores"], rtol=1e-4)


@settings(max_examples=50, deadline=None)
@given(lens=lengths, seed=st.integers(0, 10**6))
def test_reverse_source_is_its_own_inverse(lens, seed):
    ids = padded_ids(lens, 7, seed)
    mask = ids != 0
    once = np.asarray(reverse_padded(ids, mask))
    np.testing.assert_array_equal(reverse_padded(once, mask), ids)
    for row, n in zip(once, lens):
        assert np.all(row[n:] == 0)
    assert [r[:n][::-1].tolist() for r, n in zip(once, lens)] == [r[:n].tolist() for r, n in zip(ids, lens)]
