"""Completes a `gatelab case-template Cells/lstm-peephole.cell` case with an independently
written PyTorch implementation of the vanilla LSTM of Greff et al. (2017), Section II:

    z  = tanh(W_z x + R_z y + b_z)                 block input
    i  = sigmoid(W_i x + R_i y + p_i * c + b_i)    input gate (peephole on the old cell)
    f  = sigmoid(W_f x + R_f y + p_f * c + b_f)    forget gate
    c' = z * i + c * f                             cell
    o  = sigmoid(W_o x + R_o y + p_o * c' + b_o)   output gate (peephole on the new cell)
    y' = tanh(c') * o                              block output

Layer k > 0 reads layer k - 1's y' at the same step. Loss L = sum_t sum R_t * y_t (top layer).
Adds h, y_last, c_last, loss and every gradient (d_<parameter>, d_y0, d_c0, d_x) in float64.

How the committed fixture was made (once; GateLab's tests never run Python):

    gatelab case-template Cells/lstm-peephole.cell --steps 8 --batch 3 --input 3 --hidden 4 \
        --layers 2 --seed 7 --output peephole-template.npz
    python complete_peephole_lstm.py peephole-template.npz \
        Tests/CellsTests/Fixtures/cell-case/lstm-peephole-pytorch.npz

with PyTorch 2.15.0 and numpy 2.4.6.
"""
import sys

import numpy as np
import torch

source, target = sys.argv[1], sys.argv[2]
case = dict(np.load(source))
torch.set_default_dtype(torch.float64)

T, B, _ = case["x"].shape
L = case["y0"].shape[0]
names = ["W_z", "R_z", "b_z", "W_i", "R_i", "p_i", "b_i", "W_f", "R_f", "p_f", "b_f", "W_o", "R_o", "p_o", "b_o"]
suffix = lambda k: "" if k == 0 else f".l{k}"
params = {n + suffix(k): torch.tensor(case[n + suffix(k)], requires_grad=True) for k in range(L) for n in names}
x = torch.tensor(case["x"], requires_grad=True)
y0 = torch.tensor(case["y0"], requires_grad=True)
c0 = torch.tensor(case["c0"], requires_grad=True)
R = torch.tensor(case["R"])

y = [y0[k] for k in range(L)]
c = [c0[k] for k in range(L)]
outputs = []
for t in range(T):
    inp = x[t]
    for k in range(L):
        P = lambda n: params[n + suffix(k)]
        z = torch.tanh(inp @ P("W_z").T + y[k] @ P("R_z").T + P("b_z"))
        i = torch.sigmoid(inp @ P("W_i").T + y[k] @ P("R_i").T + P("p_i") * c[k] + P("b_i"))
        f = torch.sigmoid(inp @ P("W_f").T + y[k] @ P("R_f").T + P("p_f") * c[k] + P("b_f"))
        c_new = z * i + c[k] * f
        o = torch.sigmoid(inp @ P("W_o").T + y[k] @ P("R_o").T + P("p_o") * c_new + P("b_o"))
        y[k], c[k] = torch.tanh(c_new) * o, c_new
        inp = y[k]
    outputs.append(inp)
h = torch.stack(outputs)
loss = (R * h).sum()
loss.backward()

case["h"] = h.detach().numpy()
case["y_last"] = torch.stack(y).detach().numpy()
case["c_last"] = torch.stack(c).detach().numpy()
case["loss"] = np.array([loss.item()])
for name, p in params.items():
    case["d_" + name] = p.grad.numpy()
case["d_y0"], case["d_c0"], case["d_x"] = y0.grad.numpy(), c0.grad.numpy(), x.grad.numpy()
np.savez(target, **case)
print(f"wrote {target}: loss {loss.item():.17g}")
