#!/usr/bin/env python3
"""PyTorch twin of bench/worker.ts (same line protocol), run by bench/run.ts when
`python3 -c "import torch"` works. One thread (torch.set_num_threads(1)), float32, eager mode.

    python3 bench/torch_worker.py --spec <shape JSON> --check <check-case.json> [--threads 1|2]

The shape (layers, batch, operations, learning rate, reset interval) comes from bench/run.ts
(torchSpec in bench/lib/shapes.ts).

On start: computes y, loss and gradients of the check case (written by run.ts, which compares
them with the float64 reference), builds the model from the shared initial weights (the same
mulberry32 + Glorot-uniform draws as bench/lib/shapes.ts) and the same data pool
(bench/lib/tasks.ts), warms up, and replies
    @@{"ready": true, "label": ..., "info": ..., "computed": {"y", "loss", "grads"}, "chunks": ...}
Then answers {"cmd": "measure", "op", "seconds", "clock"} with @@{"rate": {"wall", "cpu", "share"}}
and stops on {"cmd": "quit"}.

The data and weight generators mirror the TypeScript ones; bench/run.ts checks the model itself
through the gradient check (on the check file's case, not these generators). Debian's
python3-torch (1.13) calls the system BLAS: netlib unless OpenBLAS is installed (recorded in info).
"""
import json
import math
import os
import sys
import time

EPS = 1e-7  # the NALU's eps in log(|x| + eps), ../shared/DESIGN.md


def mulberry32(seed):
    s = seed & 0xFFFFFFFF

    def imul(a, b):
        return (a * b) & 0xFFFFFFFF

    def nxt():
        nonlocal s
        s = (s + 0x6D2B79F5) & 0xFFFFFFFF
        t = s
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        t &= 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return nxt


def uniform(rand, n, lo, hi):
    return [lo + (hi - lo) * rand() for _ in range(n)]


def reply(o):
    sys.stdout.write("@@" + json.dumps(o) + "\n")
    sys.stdout.flush()


def main():
    argv = sys.argv[1:]
    shape = json.loads(argv[argv.index("--spec") + 1])
    check_file = argv[argv.index("--check") + 1]
    try:
        import torch
    except ImportError:
        reply({"skipped": "skipped: torch not installed"})
        return
    torch.set_num_threads(int(argv[argv.index("--threads") + 1]) if "--threads" in argv else 1)

    def make_params(weights):
        return [
            {k: torch.tensor(v, dtype=torch.float32).reshape(i, o).requires_grad_(True) for k, v in w.items()}
            for (i, o), w in zip(shape["layers"], weights)
        ]

    def forward(params, x):
        h = x
        for p in params:
            W = torch.tanh(p["W_hat"]) * torch.sigmoid(p["M_hat"])
            a = h @ W
            m = torch.exp(torch.log(torch.abs(h) + EPS) @ W)
            g = torch.sigmoid(h @ p["G"])
            h = g * a + (1 - g) * m
        return h

    # check case
    with open(check_file) as f:
        c = json.load(f)
    params = make_params(c["weights"])
    x = torch.tensor(c["x"], dtype=torch.float32).reshape(c["batch"], -1)
    t = torch.tensor(c["target"], dtype=torch.float32).reshape(c["batch"], -1)
    y = forward(params, x)
    loss = torch.mean((y - t) ** 2)
    loss.backward()
    computed = {
        "y": y.detach().flatten().tolist(),
        "loss": float(loss.item()),
        "grads": [{k: v.grad.flatten().tolist() for k, v in p.items()} for p in params],
    }

    # initial weights (bench/lib/shapes.ts initialWeights) and data (bench/lib/tasks.ts makePool)
    rand = mulberry32(1)
    initial = []
    for i, o in shape["layers"]:
        r = math.sqrt(6 / (i + o))
        initial.append({n: uniform(rand, i * o, -r, r) for n in ("W_hat", "M_hat", "G")})
    nin, nout = shape["layers"][0][0], shape["layers"][-1][1]
    B = shape["batch"]
    count = 4 if B * nin > (1 << 19) else 8
    rand = mulberry32(42)
    sl = max(1, nin // (2 * max(nout, 1)))
    xs, ts = [], []
    for _ in range(count):
        xv = torch.tensor(uniform(rand, B * nin, -1, 1), dtype=torch.float32).reshape(B, nin)
        idx = [[(2 * o * sl + i) % nin for i in range(2 * sl)] for o in range(nout)]
        tv = torch.stack([xv[:, ix].sum(dim=1) / 2 for ix in idx], dim=1)
        xs.append(xv.contiguous())
        ts.append(tv.contiguous())

    state = {}

    def reset():
        state["params"] = make_params(initial)
        state["opt"] = torch.optim.Adam(list(p for layer in state["params"] for p in layer.values()), lr=shape["learningRate"])
        state["i"] = 0

    def step(xb, tb):
        """One Adam step on (xb, tb), back to the initial weights every shape["resetEvery"] steps."""
        if state["i"] == shape["resetEvery"]:
            reset()
        state["i"] += 1
        opt = state["opt"]
        opt.zero_grad()
        loss = torch.mean((forward(state["params"], xb) - tb) ** 2)
        loss.backward()
        opt.step()
        return loss.item()

    def train():
        k = state["i"] % count
        return step(xs[k], ts[k])

    def predict():
        k = state["i"] % count
        state["i"] += 1
        with torch.no_grad():
            return forward(state["params"], xs[k]).clone()

    def task():
        # a fresh batch of the static task (add) every step, drawn by torch's own generator
        lo, hi = c["task"]["range"]
        s1, s2, n = c["task"]["start1"], c["task"]["start2"], c["task"]["size"]
        xb = torch.rand(B, nin) * (hi - lo) + lo
        return step(xb, (xb[:, s1:s1 + n].sum(dim=1) + xb[:, s2:s2 + n].sum(dim=1)).unsqueeze(1))

    # the pool is made of tensors once: "resident" is "train", "residentForward" is "forward"
    fns = {"train": train, "resident": train, "task": task, "forward": predict, "residentForward": predict}

    def measure(op, seconds, clock, chunk):
        reset()
        fn = fns[op]
        calls = 0
        w0, c0 = time.perf_counter(), time.process_time()
        while True:
            for _ in range(chunk):
                fn()
            calls += chunk
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            if (cpu if clock == "cpu" else wall) >= seconds:
                break
        return {"wall": calls / wall, "cpu": calls / cpu, "share": cpu / wall}

    chunks = {}
    for op in shape["ops"]:
        reset()
        fn = fns[op]
        calls, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 0.5:
            fn()
            calls += 1
        chunks[op] = max(1, round(0.02 / ((time.perf_counter() - t0) / calls)))
    reply({
        "ready": True, "label": "PyTorch 1 thread", "computed": computed, "chunks": chunks,
        # Debian's torch calls the system BLAS (BLAS_INFO=generic): netlib or OpenBLAS, per alternatives
        "info": {"torch": torch.__version__, "threads": torch.get_num_threads(),
                 "blas": os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")},
    })
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        if cmd["cmd"] == "quit":
            break
        if cmd["cmd"] == "measure":
            reply({"rate": measure(cmd["op"], cmd["seconds"], cmd["clock"], chunks[cmd["op"]])})


if __name__ == "__main__":
    main()
