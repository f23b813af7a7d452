"""The default recipe, in one place (the model, the command line and the docs read it).

Chosen on wiki17m by ``pmiembed sweep`` and one-off runs (see docs/ablation.md), checked
on a second 17M-token slice: a window of 8 weighted 1/d^2 ("harmonic2": near contexts
dominate, the wide window adds topical context; window 5 weighted 1/d scored lower on all
eight benchmarks of both slices), word2vec's subsampling at 1e-4 in its expectation
("expected": every token counted, each pair weighted by both words' keep probabilities,
the average of "clean" subsampling over all draws; clean subsampling's draw moved Rare
Words by .011 and SimLex by .004 between seeds; the expectation is within .004 of the
seeds' average on wiki17m and at or above it on the second slice), no context
distribution smoothing, eigenvalue
weighting 0.5, the mean and the top principal direction removed ("all-but-the-top"),
the SVD run on the words seen at least 10 times with the rarer ones folded in
(``core_min_count``: exact SVD on wiki17m SimLex .294 -> .302, MEN +.006, WS-sim +.011,
WS-rel -.010, the rest within .001 or better; second slice SimLex +.011), and a
randomized SVD with 6 power iterations and 140 extra columns.  The spectrum is flat at
the cut (s_300 / s_321 = 1.0095 on wiki17m), so the tail converges at the rate of
s_300 / s_(300 + oversamples): with 20 extra columns and 5 iterations (the previous
default, 12 products of width 320) scores sat up to .015 from the exact SVD's; 6 / 140
(14 products of width 440) keeps them within .005 (seeds 0 / 1 / 2: .0027 / .0046 /
.0021) for about 4.5 s more on wiki17m (README, "Accuracy of the fast SVD").
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
    "eig": 0.5,
    "wc": False,
    "abtt": 1,
    "core_min_count": 10,
    "core_max_words": 50000,
    "svd": "randomized",
    "n_iter": 6,
    "oversamples": 140,
}
