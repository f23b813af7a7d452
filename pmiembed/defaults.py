"""The default recipe, in one place (the model, the command line and the docs read it).

Chosen on wiki17m by ``pmiembed sweep`` (see docs/ablation.md): a window of 5 weighted
1/d (GloVe's harmonic weighting), word2vec's subsampling at 1e-4 applied "clean" (the
dropped tokens keep their positions), no context distribution smoothing, eigenvalue
weighting 0.5, the mean and the top principal direction removed ("all-but-the-top"),
and a randomized SVD with 5 power iterations (8 add about .01 on MSR and .003 on
SimLex and cost 6 more sparse products: about 20 s on wiki17m).
"""

DEFAULTS = {
    "dim": 300,
    "window": 5,
    "weighting": "harmonic",
    "min_count": 5,
    "max_vocab": None,
    "subsample": 1e-4,
    "subsample_mode": "clean",
    "cds": 1.0,
    "neg": 1.0,
    "eig": 0.5,
    "wc": False,
    "abtt": 1,
    "svd": "randomized",
    "n_iter": 5,
}
