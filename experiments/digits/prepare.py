"""Prepare scikit-learn's bundled digits (8x8 images, 10 classes): split, standardise, save.

Uses no parameter, so the tuner runs it once and every trial takes its output from the step cache.
"""
import argparse

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
args = parser.parse_args()

x, y = load_digits(return_X_y=True)
x_train, x_rest, y_train, y_rest = train_test_split(x, y, test_size=0.4, random_state=0, stratify=y)
x_val, x_test, y_val, y_test = train_test_split(x_rest, y_rest, test_size=0.5, random_state=0, stratify=y_rest)
# Standardised by the training split alone, so nothing of the validation or test images leaks into training.
mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-6
np.savez(args.out, x_train=(x_train - mean) / std, y_train=y_train, x_val=(x_val - mean) / std, y_val=y_val,
         x_test=(x_test - mean) / std, y_test=y_test)
print(f"train_rows={len(y_train)} val_rows={len(y_val)} test_rows={len(y_test)}")
