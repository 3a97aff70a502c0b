"""`keras_s2s.layers.Embedding`: the standard optimizer update on every backend.

Keras' TensorFlow backend hands optimizers one gradient slice per token
occurrence, and they square slice by slice; the package's embedding sums the
slices per id first. Expected values here are Adam's Algorithm 1 (Kingma & Ba
2015) in NumPy on the summed gradient.
"""

import keras
import numpy as np
import pytest

from keras_s2s.layers import Embedding

# run on every backend: `KERAS_BACKEND=jax python -m pytest -m backend_matrix` (.ci/run)
pytestmark = pytest.mark.backend_matrix

IDS = np.array([[1, 1, 2, 1], [2, 3, 1, 1]], "int32")  # id 1 five times, 2 twice, 3 once
COEF = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
START = np.random.default_rng(1).normal(size=(5, 3)).astype("float32")


def linear_loss(y_true, y_pred):
    """sum(outputs * COEF) per batch, so d loss / d output = COEF."""
    del y_true
    return keras.ops.sum(y_pred * keras.ops.convert_to_tensor(COEF))


def fit_steps(optimizer, steps):
    inputs = keras.Input((4,), dtype="int32")
    layer = Embedding(5, 3, embeddings_initializer=keras.initializers.Constant(START))
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer, linear_loss)
    model.fit(IDS, np.zeros((2, 4, 3), "float32"), batch_size=2, epochs=steps, shuffle=False, verbose=0)
    return keras.ops.convert_to_numpy(layer.embeddings)


def summed_gradient():
    grad = np.zeros_like(START)
    np.add.at(grad, IDS.reshape(-1), COEF.reshape(-1, 3))
    return grad


def numpy_adam(steps, lr=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-7, clipnorm=None):
    """Keras' Adam (its epsilon outside the bias-corrected root) on the summed gradient."""
    w, m, v = START.astype("float64"), np.zeros(START.shape), np.zeros(START.shape)
    for t in range(1, steps + 1):
        g = summed_gradient().astype("float64")
        if clipnorm is not None:
            g = g * min(1.0, clipnorm / np.linalg.norm(g))
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w = w - alpha * m / (np.sqrt(v) + epsilon)
    return w


@pytest.mark.parametrize("clipnorm", [None, 1.0])
def test_adam_steps_equal_numpy_adam_on_the_summed_gradient(clipnorm):
    # The gradient of row 1 is the sum of five slices: squaring each slice
    # (what Keras' TensorFlow backend does with `keras.layers.Embedding`)
    # gives another update from the first step on.
    got = fit_steps(keras.optimizers.Adam(0.1, clipnorm=clipnorm), steps=3)
    np.testing.assert_allclose(got, numpy_adam(3, clipnorm=clipnorm), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got[[0, 4]], START[[0, 4]])  # rows 0 and 4 never occur


def test_forward_and_config_are_keras_embedding_s():
    layer = Embedding(5, 3, embeddings_initializer=keras.initializers.Constant(START), name="emb")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(IDS)), START[IDS])
    config = layer.get_config()
    assert config == keras.layers.Embedding.from_config(config).get_config()
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is Embedding


@pytest.mark.tensorflow_only
def test_tensorflow_gradient_stays_sparse_with_one_slice_per_id():
    import tensorflow as tf

    layer = Embedding(1000, 3)
    layer.build((2, 4))
    with tf.GradientTape() as tape:
        loss = linear_loss(None, layer(IDS))
    (grad,) = tape.gradient(loss, [layer.embeddings.value])
    assert isinstance(grad, tf.IndexedSlices)
    assert sorted(grad.indices.numpy().tolist()) == [1, 2, 3]
    dense = tf.math.unsorted_segment_sum(grad.values, grad.indices, 1000).numpy()
    np.testing.assert_allclose(dense[:5], summed_gradient(), rtol=1e-6)
