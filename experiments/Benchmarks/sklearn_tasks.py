#!/usr/bin/python3
"""The scikit-learn tasks of `benchmarks regret --suite sklearn`: nine hyperparameters of a classifier on the digits
data set (1,797 8x8 images, 10 classes), scored by the error of a 3-fold stratified cross-validation (1 - accuracy,
minimised). Deterministic: the folds are unshuffled and every estimator has a fixed random_state, so a configuration
always scores the same and the regret tables need no noise model.

A worker: started with the task's name, it reads one JSON array per line (the parameters in the order of the task's
search space, a categorical one as the index of its value) and answers each with the error on a line of its own, until
its input ends. Debian's python3 (python3-sklearn); one thread per worker, so a pool of them shares the cores evenly.
"""
import json
import sys
import warnings

from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC


def sgd(v):
    """A linear model trained by stochastic gradient descent: loss, penalty and schedule, and their constants."""
    return SGDClassifier(
        loss=["hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron"][int(v[0])],
        penalty=["l2", "l1", "elasticnet"][int(v[1])], alpha=v[2], l1_ratio=v[3],
        learning_rate=["optimal", "constant", "invscaling", "adaptive"][int(v[4])], eta0=v[5], power_t=v[6],
        max_iter=int(v[7]), tol=v[8], random_state=0)


def svc(v):
    """A support vector machine on principal components: how many, whitened or not, then the kernel and its constants."""
    return make_pipeline(
        PCA(n_components=int(v[0]), whiten=bool(int(v[1])), random_state=0),
        SVC(C=v[2], gamma=v[3], kernel=["rbf", "poly", "sigmoid"][int(v[4])], degree=int(v[5]), coef0=v[6],
            shrinking=not int(v[7]), tol=v[8], max_iter=20000, random_state=0))


TASKS = {"sgd": sgd, "svc": svc}


def main():
    warnings.filterwarnings("ignore")
    build = TASKS[sys.argv[1]]
    x, y = load_digits(return_X_y=True)
    for line in sys.stdin:
        model = make_pipeline(StandardScaler(), build(json.loads(line)))
        print(repr(1 - cross_val_score(model, x, y, cv=3).mean()), flush=True)


if __name__ == "__main__":
    main()
