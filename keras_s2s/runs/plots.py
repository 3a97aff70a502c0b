"""Attention heatmaps of a run (matplotlib)."""


def plot_attention(run, sources, path, titles=None):
    """Saves attention heatmaps (matplotlib, PNG) of a few sources to `path`.

    Args:
        run: a `keras_s2s.runs.Run`.
        sources: a list of the run's sources (strings, or frame arrays
            `[S_i, F]`), or a `Split` (its targets title the frame plots).
        path: the PNG file to write.
        titles: optional list of str, what each source is (default: the
            text itself, or the split's target for frames).

    Rows are output tokens (EOS included), columns source tokens (text) or
    the encoder's memory steps (frames: `time_reduction` frames each).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if hasattr(sources, "sources"):  # a Split
        titles = titles or [repr(t) for t in sources.targets]
        sources = sources.sources
    titles = titles or [repr(s) if isinstance(s, str) else f"source {i}" for i, s in enumerate(sources)]
    outputs, attentions = run.translate(list(sources), return_attention=True)
    fig, axes = plt.subplots(1, len(sources), figsize=(4 * len(sources), 4), squeeze=False)
    reduction = getattr(run.generator.encoder_layer, "time_reduction", 1)
    for ax, source, title, out, weights in zip(axes[0], sources, titles, outputs, attentions):
        target_ids = run.target_tokenizer.encode([out], add_eos=True).numpy()[0][: weights.shape[0]]
        target = [run.target_tokenizer.vocabulary[i] for i in target_ids]
        ax.imshow(weights[: len(target)], cmap="viridis", aspect="auto", vmin=0, vmax=1,
                  interpolation="nearest")
        if run.source_tokenizer is not None:
            ids = run.source_tokenizer.encode([source]).numpy()[0]
            ax.set_xticks(range(len(ids)), [run.source_tokenizer.vocabulary[i] for i in ids], fontsize=8)
            ax.set_xlabel("source")
        else:
            ax.set_xlabel(f"memory step ({reduction} frame{'s' if reduction > 1 else ''} each)")
        ax.set_yticks(range(len(target)), target, fontsize=8)
        ax.set_title(f"{title} -> {out!r}", fontsize=9)
    axes[0][0].set_ylabel("output")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
