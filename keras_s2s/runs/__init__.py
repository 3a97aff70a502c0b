"""The application layer: tasks, run settings, training runs, run directories,
plots and the `keras-s2s` command line. The model library (layers, models,
inference, export, text, data, losses, metrics) never imports it.

- `tasks`: the `Task` registry (`TASKS`: g2p, dates, addition, tsv, morse);
- `config`: `TrainConfig` and its `FIELDS` (type, default, bounds, help),
  from which the CLI flags and the config.json checks are derived;
- `training.train`: one run of any task; `run.Run`: a run loaded back;
- `plots`, `cli`.

A run directory holds everything needed to use a model again, the same for
every task:

    config.json               {"train": TrainConfig fields, "max_length": T, vocabulary sizes}
    model.keras               the best model (lowest validation loss)
    source_tokenizer.json     tokenizers (keras_s2s.text.load_tokenizer); no source
    target_tokenizer.json       tokenizer for a source that is not text (morse: frames)
    source_vocab.txt          vocabularies, one token per line (line i = id i)
    target_vocab.txt
    history.csv               per-epoch losses and metrics (keras CSVLogger)
    metrics.json              dev and test scores of the final model
    attention.png             attention heatmaps of a few test examples
    backup/                   keras BackupAndRestore state (resumes a killed run)
"""

from keras_s2s.runs.config import FIELDS
from keras_s2s.runs.config import LR_SCHEDULES
from keras_s2s.runs.config import MODEL_FIELDS
from keras_s2s.runs.config import Field
from keras_s2s.runs.config import TrainConfig
from keras_s2s.runs.config import config_from_dict
from keras_s2s.runs.config import learning_rate_schedule
from keras_s2s.runs.config import read_json
from keras_s2s.runs.plots import plot_attention
from keras_s2s.runs.run import Run
from keras_s2s.runs.tasks import FRAMES
from keras_s2s.runs.tasks import TASKS
from keras_s2s.runs.tasks import TEXT
from keras_s2s.runs.tasks import Task
from keras_s2s.runs.tasks import get_task
from keras_s2s.runs.tasks import load_splits
from keras_s2s.runs.tasks import register_task
from keras_s2s.runs.tasks import task_config
from keras_s2s.runs.training import train

__all__ = [
    "FIELDS", "FRAMES", "Field", "LR_SCHEDULES", "MODEL_FIELDS", "Run", "TASKS", "TEXT", "Task", "TrainConfig",
    "config_from_dict", "get_task", "learning_rate_schedule", "load_splits", "plot_attention", "read_json",
    "register_task", "task_config", "train",
]
