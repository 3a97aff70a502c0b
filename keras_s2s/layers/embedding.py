"""An embedding whose gradient is summed per row on every backend.

Why a wrapper at all: Keras' TensorFlow backend returns the gradient of an
embedding lookup as a `tf.IndexedSlices` with one slice per token
*occurrence*, and Keras' optimizers square gradients slice by slice
(`ops.square` on `IndexedSlices`, `keras/src/backend/tensorflow/sparse.py`).
For a row that occurs n times in a batch, Adam's second moment then
accumulates `sum_i g_i**2` instead of `(sum_i g_i)**2`, and `clipnorm`
measures the norm of the unsummed slices. JAX and PyTorch hand the optimizer
the summed (dense) gradient, which is the standard update (Kingma & Ba 2015,
Algorithm 1, `g_t` the gradient of the loss). Keras offers no public switch
for this, so this layer changes only the gradient of its own lookup: on
TensorFlow the slices are summed per distinct id (`tf.unique` +
`tf.math.unsorted_segment_sum`) and stay `IndexedSlices`, so the gradient
still costs `[distinct ids, D]`, never `[V, D]`. The forward pass, the weights
and their names are Keras' `Embedding`'s, so `.keras` files written with
`keras.layers.Embedding` load into it unchanged.
"""

import keras
from keras import ops


def _summed_slices_lookup(embeddings, ids):
    """`tf.gather(embeddings, ids)` whose gradient has one slice per distinct id."""
    import tensorflow as tf

    @tf.custom_gradient
    def lookup(params):
        def grad(upstream):
            flat_ids = tf.reshape(ids, [-1])
            flat_grad = tf.reshape(upstream, [-1, tf.shape(params)[1]])
            distinct, position = tf.unique(flat_ids)
            summed = tf.math.unsorted_segment_sum(flat_grad, position, tf.size(distinct))
            return tf.IndexedSlices(summed, distinct, dense_shape=tf.shape(params, out_type=ids.dtype))

        return tf.gather(params, ids), grad

    return lookup(embeddings)


@keras.saving.register_keras_serializable(package="keras_s2s")
class Embedding(keras.layers.Embedding):
    """`keras.layers.Embedding` whose gradient is summed per row on TensorFlow.

    Same arguments, weights, config and outputs as `keras.layers.Embedding`
    (ids int `[...]` -> float `[..., D]`). The only difference is the
    gradient on the TensorFlow backend: one `IndexedSlices` slice per distinct
    id holding the sum of its occurrences' gradients, so every optimizer
    (Adam, AdamW, RMSprop, `clipnorm`) sees the same gradient as on JAX and
    PyTorch. LoRA and quantized embeddings use Keras' own path.
    """

    def call(self, inputs):
        if (keras.backend.backend() != "tensorflow" or self.lora_enabled
                or getattr(self, "quantization_mode", None)):
            return super().call(inputs)
        if keras.backend.standardize_dtype(inputs.dtype) not in ("int32", "int64"):
            inputs = ops.cast(inputs, "int32")
        outputs = _summed_slices_lookup(self.embeddings.value, inputs)
        return ops.cast(outputs, dtype=self.compute_dtype)
