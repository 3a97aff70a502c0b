"""Hard limits on sizes the package accepts, so no input can make it allocate
without bound.

Every entry point checks against these before any tensor is allocated:
`generate`, `Seq2SeqGenerator.search` callers, `export_saved_model`,
`export_tflite`, run directories (`config.json`) and the layers' constructors
(which is also where a tampered `.keras` file's declared sizes are read).

- `MAX_GENERATION_LENGTH`: the largest `max_length` (target tokens generated
  per sequence). Search buffers are `[B, K, T]` (and `[B, K, T, S]` for
  attention weights), allocated before the first step.
- `MAX_NUM_SEQUENCES`: the largest `num_beams` and `num_return_sequences`
  (rows per source in the search).
- `MAX_SOURCE_LENGTH`: the default number of source tokens a served model
  reads (SavedModel, TFLite, `Run.translate`); longer sources are cut on the
  ragged tokens, before any padding, so one long string costs no more than a
  source of this length.
- `MAX_SOURCE_FRAMES`: the same for float feature frames (a feature
  encoder's source; ~41 s of audio at a 10 ms hop).
- `MAX_VOCAB_SIZE`, `MAX_UNITS` (units and embedding sizes), `MAX_LAYERS`:
  the largest sizes a layer accepts.
- `MAX_TSV_LINE_CHARS`: longer lines of a TSV corpus are skipped and counted
  (`keras_s2s.data.read_tsv`).
"""

MAX_GENERATION_LENGTH = 1024
MAX_NUM_SEQUENCES = 256
MAX_SOURCE_LENGTH = 256
MAX_SOURCE_FRAMES = 4096
MAX_VOCAB_SIZE = 2**20
MAX_UNITS = 4096
MAX_LAYERS = 16
MAX_TSV_LINE_CHARS = 10_000
