"""Evaluate trained weights on the held-out test split: a plain NumPy forward pass, whichever library trained them."""
import argparse

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--model", required=True)
args = parser.parse_args()

data, model = np.load(args.data), np.load(args.model)
hidden = np.maximum(data["x_test"] @ model["w1"] + model["b1"], 0)
predicted = (hidden @ model["w2"] + model["b2"]).argmax(axis=1)
print(f"test_accuracy={(predicted == data['y_test']).mean():.5f}")
