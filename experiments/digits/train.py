"""Train a one-hidden-layer MLP on the prepared digits and report a learning curve.

PyTorch on the GPU the tuner lends this step (CUDA_VISIBLE_DEVICES) where there is one; otherwise scikit-learn's
MLPClassifier on the CPU, one partial_fit per epoch. Either way it prints `epoch=N loss=... accuracy=...` (validation
accuracy) after every epoch, which early stopping judges, and saves the weights as plain arrays for `evaluate`.
"""
import argparse
import time

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--hidden", type=int, required=True)
parser.add_argument("--weight-decay", type=float, required=True)
parser.add_argument("--epochs", type=int, required=True)
args = parser.parse_args()

data = np.load(args.data)
x_train, y_train, x_val, y_val = data["x_train"], data["y_train"], data["x_val"], data["y_val"]
started = time.perf_counter()


def on_gpu():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


if on_gpu():
    import torch

    torch.manual_seed(0)
    device = "cuda"
    xt, yt = torch.tensor(x_train, dtype=torch.float32, device=device), torch.tensor(y_train, device=device)
    xv, yv = torch.tensor(x_val, dtype=torch.float32, device=device), torch.tensor(y_val, device=device)
    model = torch.nn.Sequential(torch.nn.Linear(64, args.hidden), torch.nn.ReLU(), torch.nn.Linear(args.hidden, 10)).to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    for epoch in range(1, args.epochs + 1):
        model.train()
        for batch in torch.randperm(len(xt), device=device).split(64):
            optimiser.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt[batch]), yt[batch])
            loss.backward()
            optimiser.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(xv).argmax(dim=1) == yv).float().mean().item()
        print(f"epoch={epoch} loss={loss.item():.5f} accuracy={accuracy:.5f}", flush=True)
    weights = [layer.detach().cpu().numpy() for layer in (model[0].weight.T, model[0].bias, model[2].weight.T, model[2].bias)]
    backend = 1
else:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    model = MLPClassifier(hidden_layer_sizes=(args.hidden,), learning_rate_init=args.lr, alpha=args.weight_decay,
                          batch_size=64, random_state=0)
    classes = np.arange(10)
    for epoch in range(1, args.epochs + 1):
        model.partial_fit(x_train, y_train, classes=classes)
        accuracy = model.score(x_val, y_val)
        print(f"epoch={epoch} loss={model.loss_:.5f} accuracy={accuracy:.5f}", flush=True)
    weights = [model.coefs_[0], model.intercepts_[0], model.coefs_[1], model.intercepts_[1]]
    backend = 0

np.savez(args.out, w1=weights[0], b1=weights[1], w2=weights[2], b2=weights[3])
print(f"train_seconds={time.perf_counter() - started:.3f} gpu={backend}")
