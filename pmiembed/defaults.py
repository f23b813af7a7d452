"""The default recipe, in one place (the model, the command line and the docs read it).

Chosen on wiki17m by ``pmiembed sweep`` and one-off runs (see docs/ablation.md), checked
on a second 17M-token slice: a window of 8 weighted 1/d^2 ("harmonic2": near contexts
dominate, the wide window adds topical context; window 5 weighted 1/d scored lower on all
eight benchmarks of both slices), word2vec's subsampling at 1e-4 applied "clean" (the
dropped tokens keep their positions), no context distribution smoothing, eigenvalue
weighting 0.5, the mean and the top principal direction removed ("all-but-the-top"),
the SVD run on the words seen at least 10 times with the rarer ones folded in
(``core_min_count``: exact SVD on wiki17m SimLex .294 -> .302, MEN +.006, WS-sim +.011,
WS-rel -.010, the rest within .001 or better; second slice SimLex +.011), and a randomized SVD with 5 power iterations and 20 extra columns (8 iterations add about
.01 on MSR and .003 on SimLex and cost 6 more sparse products: about 5 s on wiki17m).
The spectrum is flat at the cut (s_300 / s_321 = 1.0095 on wiki17m), so this SVD's scores
sit up to .013 from the exact SVD's; ``--n-iter 6 --oversamples 140`` brings them within
.005 for about 50% more training time (README, "Accuracy of the fast SVD").
"""

DEFAULTS = {
    "dim": 300,
    "window": 8,
    "weighting": "harmonic2",
    "min_count": 5,
    "max_vocab": None,
    "subsample": 1e-4,
    "subsample_mode": "clean",
    "cds": 1.0,
    "neg": 1.0,
    "eig": 0.5,
    "wc": False,
    "abtt": 1,
    "core_min_count": 10,
    "svd": "randomized",
    "n_iter": 5,
    "oversamples": 20,
}
