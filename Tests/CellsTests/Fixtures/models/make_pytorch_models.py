"""Writes the bare PyTorch state_dict fixtures of Tests/CellsTests/Fixtures/models (README.md there).

    python Tests/CellsTests/Fixtures/models/make_pytorch_models.py   # with torch, numpy, safetensors

Run once; the outputs are committed and the tests never run Python. Everything in float64
(net.double()), so GateLab's float64 forward pass must agree to about 1e-15.

Each model is saved exactly as a PyTorch user saves one, with no metadata:
`safetensors.torch.save_file(net.state_dict(), ...)` and `numpy.savez_compressed` /
`numpy.savez` of the same state_dict, and run by PyTorch on the inputs in bare-inputs-*.npz
(`x` [T, B, I]); what PyTorch computed is in bare-*.expected.npz: `output` [T, B, H] (the top
layer at every step), `h_n` [L, B, H], `c_n` [L, B, H] (LSTM only), `y` [T, B, K] (the readout
applied at every step, when the model has one).

- bare-lstm2: a module with `lstm = nn.LSTM(3, 5, num_layers=2)` and `fc = nn.Linear(5, 2)`,
  so the keys are `lstm.weight_ih_l0`, ..., `fc.weight`, `fc.bias`.
- bare-gru-nobias: `nn.GRU(3, 4, bias=False)` saved on its own: keys `weight_ih_l0`,
  `weight_hh_l0` only. Its .npz (numpy.savez, uncompressed) stores `weight_ih_l0` in Fortran
  order (`fortran_order: True`, a [12, 3] array), so a reader that swapped the dimensions of a
  Fortran-order array would fail.
- bare-inputs-gru-fortran.npy: the GRU's inputs `x` as a Fortran-order 3-D .npy.
"""
import os
import sys

import numpy as np
import safetensors
import safetensors.torch
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


class LSTMWithReadout(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(3, 5, num_layers=2)
        self.fc = torch.nn.Linear(5, 2)

    def forward(self, x):
        output, (h_n, c_n) = self.lstm(x)
        return output, h_n, c_n, self.fc(output)


def arrays(state):
    return {k: v.detach().numpy() for k, v in state.items()}


def main():
    torch.manual_seed(29)
    rng = np.random.default_rng(30)

    lstm = LSTMWithReadout().double()
    x = rng.standard_normal((7, 2, 3))
    with torch.no_grad():
        output, h_n, c_n, y = lstm(torch.from_numpy(x))
    safetensors.torch.save_file(lstm.state_dict(), os.path.join(HERE, "bare-lstm2.safetensors"))
    np.savez_compressed(os.path.join(HERE, "bare-lstm2.npz"), **arrays(lstm.state_dict()))
    np.savez(os.path.join(HERE, "bare-inputs-lstm2.npz"), x=x)
    np.savez(os.path.join(HERE, "bare-lstm2.expected.npz"), output=output.numpy(), h_n=h_n.numpy(),
             c_n=c_n.numpy(), y=y.numpy())

    gru = torch.nn.GRU(3, 4, bias=False).double()
    x = rng.standard_normal((6, 3, 3))
    with torch.no_grad():
        output, h_n = gru(torch.from_numpy(x))
    safetensors.torch.save_file(gru.state_dict(), os.path.join(HERE, "bare-gru-nobias.safetensors"))
    state = arrays(gru.state_dict())
    state["weight_ih_l0"] = np.asfortranarray(state["weight_ih_l0"])
    np.savez(os.path.join(HERE, "bare-gru-nobias.npz"), **state)
    np.save(os.path.join(HERE, "bare-inputs-gru-fortran.npy"), np.asfortranarray(x))
    np.savez(os.path.join(HERE, "bare-gru-nobias.expected.npz"), output=output.numpy(), h_n=h_n.numpy())

    with open(os.path.join(HERE, "bare-versions.txt"), "w") as f:
        f.write(f"python {sys.version.split()[0]}, torch {torch.__version__}, numpy {np.__version__}, "
                f"safetensors {safetensors.__version__}\n")


if __name__ == "__main__":
    main()
