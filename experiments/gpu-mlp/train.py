"""Train a small MLP on a synthetic regression task: recover a random 'teacher' network from noisy samples.

Needs PyTorch. Runs on the GPU that tuner lends the step (CUDA_VISIBLE_DEVICES), or on the CPU where there
is none. Prints one metric line per epoch (a learning curve) and the final objective.
"""
import argparse
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--hidden", type=int, required=True)
parser.add_argument("--layers", type=int, required=True)
parser.add_argument("--optimizer", choices=["adam", "sgd"], required=True)
parser.add_argument("--epochs", type=int, default=15)
parser.add_argument("--batch", type=int, default=2048)
args = parser.parse_args()

device = "cuda" if torch.cuda.is_available() else "cpu"
torch.backends.cuda.matmul.allow_tf32 = True
started = time.perf_counter()

# The same data in every trial: a fixed teacher network and fixed inputs.
generator = torch.Generator().manual_seed(0)
features, samples = 64, 200_000
teacher = [torch.randn(features, 256, generator=generator) / features ** 0.5,
           torch.randn(256, 1, generator=generator) / 16]
x = torch.randn(samples, features, generator=generator)
y = torch.tanh(x @ teacher[0]) @ teacher[1] + 0.01 * torch.randn(samples, 1, generator=generator)
x, y = x.to(device), y.to(device)
train_x, train_y, val_x, val_y = x[:180_000], y[:180_000], x[180_000:], y[180_000:]

torch.manual_seed(1)
blocks, width = [], features
for _ in range(args.layers):
    blocks += [torch.nn.Linear(width, args.hidden), torch.nn.ReLU()]
    width = args.hidden
model = torch.nn.Sequential(*blocks, torch.nn.Linear(width, 1)).to(device)
optimizer = (torch.optim.Adam(model.parameters(), lr=args.lr) if args.optimizer == "adam"
             else torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9))
loss_fn = torch.nn.MSELoss()

best = float("inf")
for epoch in range(1, args.epochs + 1):
    model.train()
    order = torch.randperm(train_x.shape[0], device=device)
    for start in range(0, train_x.shape[0], args.batch):
        batch = order[start:start + args.batch]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(train_x[batch]), train_y[batch])
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        val_loss = loss_fn(model(val_x), val_y).item()
    best = min(best, val_loss)
    print(f"epoch={epoch} loss={loss.item():.6g} val_loss={val_loss:.6g}", flush=True)

print(f"objective={best:.6g} seconds={time.perf_counter() - started:.3f}")
print(f"device {device}: {torch.cuda.get_device_name() if device == 'cuda' else 'cpu'}")
