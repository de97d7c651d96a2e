#!/usr/bin/env python3
"""One LCBench trial as a training script would run it: the surrogate's validation accuracy for the configuration,
printed epoch by epoch (`epoch=N val_accuracy=X`) with a pause standing for the epoch's training, so the study's
early-stopping rule can stop it between epochs; the last epoch's accuracy again as the trial's final metric."""
import argparse, sys, time

parser = argparse.ArgumentParser()
parser.add_argument("--lcbench", required=True, help="the surrogate's folder (../shared/benchmarks/lcbench)")
parser.add_argument("--task", required=True)
parser.add_argument("--epochs", type=int, default=52)
parser.add_argument("--pause", type=float, default=0.05, help="seconds each epoch takes here")
for name in ("batch_size", "learning_rate", "momentum", "weight_decay", "num_layers", "max_units", "max_dropout"):
    parser.add_argument("--" + name, type=float, required=True)
args = parser.parse_args()
sys.path.insert(0, args.lcbench)
from lcbench import Surrogate  # noqa: E402  (the folder is known only once the arguments are read)

configuration = {k: v for k, v in vars(args).items() if k not in ("lcbench", "task", "epochs", "pause")}
# One batched pass for the whole curve: evaluating epoch by epoch would cost 52 passes for the same numbers.
curve = Surrogate().curve(args.task, configuration, list(range(1, args.epochs + 1)))
for epoch, row in enumerate(curve, start=1):
    time.sleep(args.pause)
    print(f"epoch={epoch} val_accuracy={row['val_accuracy']:.4f}", flush=True)
print(f"val_accuracy={curve[-1]['val_accuracy']:.4f}", flush=True)
