#!/usr/bin/python3
"""Optuna 3.1's TPE acquisition, log l(x) - log g(x), on observations given to it, at points given to it.

Run by `benchmarks tpe-densities`, which writes one JSON object on stdin: "parameters" ([{"name", "low", "high"}],
continuous, linear), "observations" ([[value per parameter]], oldest first), "losses" and "probes" ([[value per
parameter]]). Splits the observations as TPESampler does with its defaults (the default_gamma(n) lowest losses
form l, both sets kept in trial order, default_weights, the prior, the magic clip) and prints, per parameter, the
univariate log l - log g at every probe: the densities are deterministic, so both sides must agree to rounding.
"""
import json
import sys

import numpy as np
from optuna.distributions import FloatDistribution
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.samplers._tpe.sampler import default_gamma, default_weights


def main():
    given = json.load(sys.stdin)
    losses = np.asarray(given["losses"], dtype=float)
    observations = np.asarray(given["observations"], dtype=float)
    probes = np.asarray(given["probes"], dtype=float)
    order = np.argsort(losses, kind="stable")
    n_below = default_gamma(len(losses))
    below, above = np.sort(order[:n_below]), np.sort(order[n_below:])
    settings = _ParzenEstimatorParameters(consider_prior=True, prior_weight=1.0, consider_magic_clip=True,
                                          consider_endpoints=False, weights=default_weights, multivariate=False)
    scores = []
    for j, parameter in enumerate(given["parameters"]):
        space = {parameter["name"]: FloatDistribution(parameter["low"], parameter["high"])}
        good = _ParzenEstimator({parameter["name"]: observations[below, j]}, space, settings)
        bad = _ParzenEstimator({parameter["name"]: observations[above, j]}, space, settings)
        at = {parameter["name"]: probes[:, j]}
        scores.append((good.log_pdf(at) - bad.log_pdf(at)).tolist())
    json.dump({"scores": scores}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
