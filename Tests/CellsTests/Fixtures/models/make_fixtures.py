"""Writes the model-file fixtures of Tests/CellsTests/Fixtures/models (see README.md there).

    /work/venv/bin/python Tests/CellsTests/Fixtures/models/make_fixtures.py .build/debug/gatelab

Two directions, both in float64:

1. GateLab -> PyTorch. `gatelab train --save` trains an LSTM and a GRU briefly on the adding
   problem and saves them as JSON (gatelab-lstm.json, gatelab-gru.json). This script loads each
   into nn.LSTM / nn.GRU with load_state_dict(strict=True) and the readout into nn.Linear, runs
   them on seeded inputs and writes what PyTorch computed (gatelab-*.pytorch.json: x, every
   step's h, the readout's y at the last step).
2. PyTorch -> GateLab. An nn.LSTM and an nn.GRU plus nn.Linear are trained briefly on the
   adding problem in PyTorch and exported with safetensors (pytorch-*.safetensors) and with
   numpy.savez (pytorch-*.npz); then probed as `gatelab probe` does: x ~ N(0, 1), zero initial
   state, L = sum_j r_j h_T[j] with r ~ N(0, 1)/sqrt(H), and log10 ||dL/dh_t|| at every
   distance k = T-1-t (the total derivative: the state fed to the next step, via
   retain_grad), written to pytorch-*.probe.json. (Not the LSTM's ||dL/dc_t||: nn.LSTM returns
   h_t and c_t as separate outputs of one fused op, so PyTorch's c_t.grad holds h_t fixed,
   while GateLab's total derivative includes the path through h_t = o * tanh(c_t).)
Also pytorch-lstm-compressed.npz (numpy.savez_compressed), which GateLab must read as pytorch-lstm.npz.
"""
import json
import os
import subprocess
import sys

import numpy as np
import safetensors
import safetensors.torch
import torch

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))


def to_torch_state(path):
    """A GateLab JSON model file as two state_dicts: the recurrent layers and the readout."""
    j = json.load(open(path))
    arrays = {k: torch.tensor(v, dtype=torch.float64) for k, v in j.items() if isinstance(v, list)}
    rnn = {k: v for k, v in arrays.items() if not k.startswith("readout.")}
    readout = {k[len("readout."):]: v for k, v in arrays.items() if k.startswith("readout.")}
    return j, rnn, readout


def gatelab_to_pytorch(gatelab):
    for cell, module in [("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)]:
        path = os.path.join(HERE, f"gatelab-{cell}.json")
        subprocess.run([gatelab, "train", "--task", "adding", "--cell", cell, "--length", "10", "--hidden", "8",
                        "--batch", "8", "--updates", "40", "--eval-every", "20", "--eval-size", "16",
                        "--seed", "3", "--save", path], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        j, rnn, readout = to_torch_state(path)
        net = module(int(j["input_size"]), int(j["hidden_size"]), num_layers=int(j["num_layers"]))
        net.load_state_dict(rnn, strict=True)
        linear = torch.nn.Linear(int(j["hidden_size"]), readout["weight"].shape[0])
        linear.load_state_dict(readout, strict=True)
        g = np.random.default_rng(11)
        T, B, I = 12, 3, int(j["input_size"])
        x = g.standard_normal((T, B, I))
        with torch.no_grad():
            h, _ = net(torch.tensor(x))
            y = linear(h[-1])
        json.dump({"source": "make_fixtures.py: torch %s, nn.%s.load_state_dict(strict=True) of %s" % (torch.__version__, module.__name__, os.path.basename(path)),
                   "x": x.tolist(), "h": h.numpy().tolist(), "y": y.numpy().tolist()},
                  open(os.path.join(HERE, f"gatelab-{cell}.pytorch.json"), "w"))


def adding_batch(g, B, T):
    x = np.zeros((T, B, 2))
    x[:, :, 0] = g.random((T, B))
    y = np.zeros((B, 1))
    for b in range(B):
        i = g.integers(0, T // 2)
        k = g.integers(T // 2, T)
        x[i, b, 1] = x[k, b, 1] = 1
        y[b, 0] = x[i, b, 0] + x[k, b, 0]
    return torch.tensor(x), torch.tensor(y)


def pytorch_to_gatelab():
    for cell, module in [("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)]:
        torch.manual_seed(5)
        H = 6
        net = module(2, H)
        linear = torch.nn.Linear(H, 1)
        opt = torch.optim.Adam(list(net.parameters()) + list(linear.parameters()), lr=1e-2)
        g = np.random.default_rng(5)
        for _ in range(60):
            x, y = adding_batch(g, 16, 20)
            out, _ = net(x)
            loss = ((linear(out[-1]) - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        state = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
        state.update({"readout." + k: v.detach().contiguous() for k, v in linear.state_dict().items()})
        metadata = {"cell": cell, "input_size": "2", "hidden_size": str(H), "num_layers": "1",
                    "task": "adding", "updates": "60", "source": "torch %s, make_fixtures.py" % torch.__version__}
        safetensors.torch.save_file(state, os.path.join(HERE, f"pytorch-{cell}.safetensors"), metadata=metadata)
        arrays = {k: v.numpy() for k, v in state.items()}
        meta = np.frombuffer(json.dumps(metadata).encode(), dtype=np.uint8)
        np.savez(os.path.join(HERE, f"pytorch-{cell}.npz"), __metadata__=meta, **arrays)
        if cell == "lstm":
            np.savez_compressed(os.path.join(HERE, "pytorch-lstm-compressed.npz"), __metadata__=meta, **arrays)

        # The probe: per-step gradients of L = r . h_T with respect to every state.
        T = 40
        g = np.random.default_rng(9)
        x = g.standard_normal((T, 1, 2))
        r = g.standard_normal((1, H)) / np.sqrt(H)
        h = torch.zeros(1, 1, H)
        c = torch.zeros(1, 1, H)
        hs = []
        for t in range(T):
            xt = torch.tensor(x[t:t + 1])
            if cell == "lstm":
                _, (h, c) = net(xt, (h, c))
            else:
                _, h = net(xt, h)
            h.retain_grad()
            hs.append(h)
        L = (torch.tensor(r) * h[0]).sum()
        L.backward()
        log_h = [float(torch.log10(hs[T - 1 - k].grad.norm())) for k in range(T)]
        json.dump({"source": "make_fixtures.py: torch %s, retain_grad on every step's state" % torch.__version__,
                   "x": x.tolist(), "r": r[0].tolist(), "log10_h": log_h},
                  open(os.path.join(HERE, f"pytorch-{cell}.probe.json"), "w"))


if __name__ == "__main__":
    gatelab_to_pytorch(os.path.abspath(sys.argv[1]))
    pytorch_to_gatelab()
