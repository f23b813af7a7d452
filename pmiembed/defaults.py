"""The default recipe, in one place: the model, the stage functions, the command line
and the docs read it.

- a window of 8 weighted 1/d^2 ("harmonic2"): near contexts dominate, and the wide
  window adds topical context without drowning them;
- word2vec's subsampling at 1e-4 in its expectation ("expected"): every token is
  counted and each pair weighted by both words' keep probabilities, the average of
  "clean" subsampling over all draws without the draw's noise, which otherwise decides
  the few contexts of a rare word;
- no context distribution smoothing (cds 1, which also keeps the PPMI matrix symmetric)
  and no shift;
- bounded negative PMI ("nneg"): the PMI of an observed pair, divided by
  ``-log p(w, c)`` where it is negative, and ``-0.75`` for unobserved pairs, each cell
  weighted by ``(#w #c) ** 0.05``: what a pair was never seen together says is kept, but
  bounded, and frequent words' better estimated rows count a little more;
- eigenvalue weighting 0.5, the mean and the top principal direction removed
  ("all-but-the-top");
- the SVD run on the words seen at least 10 times (at most 50,000 of them), the rarer
  ones folded in (``core_min_count``): the rank goes to the best-estimated rows;
- a randomized SVD with 6 power iterations and 140 extra columns: the PPMI spectrum is
  flat at the cut, so the last directions converge at the rate of
  ``s_dim / s_(dim + oversamples)`` and need many extra columns.

How each choice was measured: docs/ablation.md and docs/implementation-notes.md.
"""

DEFAULTS = {
    "dim": 300,
    "window": 8,
    "weighting": "harmonic2",
    "min_count": 5,
    "max_vocab": None,
    "subsample": 1e-4,
    "subsample_mode": "expected",
    "cds": 1.0,
    "neg": 1.0,
    "matrix": "nneg",
    "bound": 0.75,
    "freq_weight": 0.05,
    "eig": 0.5,
    "wc": False,
    "abtt": 1,
    "core_min_count": 10,
    "core_max_words": 50000,
    "svd": "randomized",
    "n_iter": 6,
    "oversamples": 140,
}

#: how text becomes tokens (``tokenize=``, ``--tokenize``): words of any script, inner ``'``
#: and ``-`` kept, punctuation dropped, lowercased; text8-style corpora read the same as by
#: ``"whitespace"`` (docs/usage.md, "Tokenisation")
TOKENIZE = "words"
#: the tokenisations ``tokenize=`` accepts
TOKENIZERS = ("whitespace", "words", "nltk")

#: seconds a Dask scheduler has to answer, and to have a worker, before the cluster route
#: gives up (``pmiembed.distributed.connect(scheduler_timeout=...)``, ``--scheduler-timeout``)
SCHEDULER_TIMEOUT = 20.0

#: power iterations of an update's warm-started SVD when not given (from scratch: ``n_iter``, 6);
#: on wiki17m + 17M tokens the fewest within .005 of training on both on the eight benchmarks
#: (docs/phrases-update.md)
UPDATE_N_ITER = 4
