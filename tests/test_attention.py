import keras
import numpy as np
import pytest
from conftest import numpy

import keras_s2s
from keras_s2s.layers import BahdanauAttention, BaseAttention, LuongAttention

# run on every backend: `KERAS_BACKEND=jax python -m pytest -m backend_matrix` (.ci/run)
pytestmark = pytest.mark.backend_matrix


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def weights_of(layer, name):
    for w in layer.weights:
        if w.path.endswith(name):
            return keras.ops.convert_to_numpy(w)
    raise KeyError(name)


def kernel(layer, dense_name):
    return keras.ops.convert_to_numpy(getattr(layer, dense_name).kernel)


@pytest.fixture
def qkv():
    rng = np.random.default_rng(0)
    query = rng.normal(size=(2, 3, 6)).astype("float32")
    value = rng.normal(size=(2, 4, 6)).astype("float32")
    mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    return query, value, mask


def check_against(scores, value, mask, context, weights):
    scores = np.where(mask[:, None, :], scores, -np.inf)
    expected_w = softmax(scores)
    np.testing.assert_allclose(weights, expected_w, atol=1e-5)
    np.testing.assert_allclose(context, expected_w @ value, atol=1e-5)


@pytest.mark.parametrize("normalize", [False, True])
def test_bahdanau_matches_numpy(qkv, normalize):
    query, value, mask = qkv
    layer = BahdanauAttention(5, normalize=normalize)
    context, weights = numpy(layer(query, value, value_mask=mask))
    wq, wk, v = kernel(layer, "query_dense"), kernel(layer, "key_dense"), weights_of(layer, "v")
    hidden = (query @ wq)[:, :, None, :] + (value @ wk)[:, None, :, :]
    if normalize:
        hidden = hidden + weights_of(layer, "b")
        v = weights_of(layer, "g") * v / np.linalg.norm(v)
        assert np.isclose(weights_of(layer, "g"), np.sqrt(1 / 5))
    scores = (np.tanh(hidden) * v).sum(-1)
    check_against(scores, value, mask, context, weights)


@pytest.mark.parametrize("score", ["dot", "general", "concat"])
@pytest.mark.parametrize("scale", [False, True])
def test_luong_matches_numpy(qkv, score, scale):
    query, value, mask = qkv
    layer = LuongAttention(score, scale=scale)
    context, weights = numpy(layer(query, value, value_mask=mask))
    if scale:  # make the learned scale matter
        layer.g.assign(1.7)
        context, weights = numpy(layer(query, value, value_mask=mask))
    if score == "dot":
        scores = np.einsum("bqh,bsh->bqs", query, value)
    elif score == "general":
        scores = np.einsum("bqh,bsh->bqs", query, value @ kernel(layer, "key_dense"))
    else:
        hidden = (query @ kernel(layer, "query_dense"))[:, :, None] + (
            value @ kernel(layer, "key_dense")
        )[:, None]
        scores = (np.tanh(hidden) * weights_of(layer, "v")).sum(-1)
    if scale:
        scores = scores * 1.7
    check_against(scores, value, mask, context, weights)


@pytest.mark.parametrize("layer", [BahdanauAttention(4), LuongAttention("general")])
def test_separate_keys(layer):
    rng = np.random.default_rng(1)
    query = rng.normal(size=(2, 5)).astype("float32")
    value = rng.normal(size=(2, 3, 7)).astype("float32")
    key = rng.normal(size=(2, 3, 5)).astype("float32")
    context, weights = numpy(layer(query, value, key=key))
    assert context.shape == (2, 7) and weights.shape == (2, 3)
    if isinstance(layer, LuongAttention):
        scores = np.einsum("bh,bsh->bs", query, key @ kernel(layer, "key_dense"))
        np.testing.assert_allclose(weights, softmax(scores), atol=1e-5)


def test_mask_semantics_and_all_masked_row(qkv):
    query, value, _ = qkv
    mask = np.array([[1, 0, 1, 0], [0, 0, 0, 0]], bool)
    for layer in [BahdanauAttention(5), LuongAttention(), LuongAttention("concat")]:
        context, weights = numpy(layer(query, value, value_mask=mask))
        weights = np.asarray(weights)
        assert np.all(weights[0][:, ~mask[0]] == 0.0)
        np.testing.assert_allclose(weights[0].sum(-1), 1.0, atol=1e-6)
        assert np.all(weights[1] == 0.0) and np.all(np.asarray(context)[1] == 0.0)
        assert np.all(np.isfinite(np.asarray(context)))


def test_rank2_query_equals_rank3_with_one_step(qkv):
    query, value, mask = qkv
    layer = BahdanauAttention(5)
    c3, w3 = numpy(layer(query[:, :1], value, value_mask=mask))
    c2, w2 = numpy(layer(query[:, 0], value, value_mask=mask))
    np.testing.assert_allclose(c2, np.asarray(c3)[:, 0], atol=1e-6)
    np.testing.assert_allclose(w2, np.asarray(w3)[:, 0], atol=1e-6)


def test_keras_mask_on_value_is_honoured():
    ids = keras.Input((None,), dtype="int32")
    query = keras.Input((8,))
    value = keras.layers.Embedding(10, 8, mask_zero=True)(ids)
    context, weights = LuongAttention()(query, value)
    model = keras.Model([ids, query], weights)
    out = model.predict([np.array([[3, 4, 0, 0]]), np.ones((1, 8), "float32")], verbose=0)
    assert np.all(out[0, 2:] == 0) and np.isclose(out[0, :2].sum(), 1.0)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_stays_finite(policy):
    keras.config.set_dtype_policy(policy)
    rng = np.random.default_rng(0)
    query = (rng.normal(size=(2, 3, 6)) * 50).astype("float32")
    value = (rng.normal(size=(2, 4, 6)) * 50).astype("float32")
    mask = np.array([[1, 1, 0, 0], [0, 0, 0, 0]], bool)
    for layer in [BahdanauAttention(5), LuongAttention(), LuongAttention("general")]:
        context, weights = layer(query, value, value_mask=mask)
        assert keras.backend.standardize_dtype(weights.dtype) == keras.config.dtype_policy().compute_dtype
        weights = numpy(keras.ops.cast(weights, "float32"))
        assert np.all(np.isfinite(weights)) and np.all(weights[0, :, 2:] == 0)
        assert np.all(weights[1] == 0)
        np.testing.assert_allclose(weights[0].sum(-1), 1.0, atol=1e-2)


class ScaledDot(BaseAttention):
    def score(self, query, key):
        return keras.ops.einsum("bqh,bsh->bqs", query, key) * 0.5


def test_subclass_with_only_score(qkv):
    query, value, mask = qkv
    context, weights = ScaledDot()(query, value, value_mask=mask)
    scores = np.einsum("bqh,bsh->bqs", query, value) * 0.5
    check_against(scores, value, mask, context, weights)


def test_base_without_score_explains():
    with pytest.raises(NotImplementedError, match="score"):
        BaseAttention()(np.zeros((1, 2), "float32"), np.zeros((1, 3, 2), "float32"))


@pytest.mark.parametrize(
    "layer", [BahdanauAttention(3, normalize=True), LuongAttention("concat", units=4, scale=True)]
)
def test_config_round_trip(layer, qkv):
    query, value, mask = qkv
    layer(query, value, value_mask=mask)
    clone = layer.__class__.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"score='dott'.*'dot', 'general', 'concat'"):
        LuongAttention("dott")
    with pytest.raises(ValueError, match="units=0"):
        BahdanauAttention(0)
    with pytest.raises(TypeError, match="units=2.5"):
        BahdanauAttention(2.5)
    with pytest.raises(ValueError, match="units.*only used by score='concat'"):
        LuongAttention("dot", units=4)
    with pytest.raises(ValueError, match="query size 4, key size 6"):
        LuongAttention()(np.zeros((1, 4), "float32"), np.zeros((1, 3, 6), "float32"))
    with pytest.raises(ValueError, match="`value` must have rank 3"):
        LuongAttention()(np.zeros((1, 4), "float32"), np.zeros((1, 4), "float32"))
    with pytest.raises(ValueError, match="attention='bahdanu'"):
        keras_s2s.layers.attention.get("bahdanu", 4)
    with pytest.raises(TypeError, match="BaseAttention"):
        keras_s2s.layers.attention.get(keras.layers.Attention(), 4)
