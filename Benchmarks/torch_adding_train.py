# Side-by-side measurement (not part of GateLab, which never needs Python): PyTorch training on
# the adding problem, LSTM H=128, B=32, T=50, 300 updates, Adam 1e-3, clip 1, MSE readout of the
# last step; the loop only is timed. Usage: python3 torch_adding_train.py [float32|float64]
import time, torch, sys
torch.set_num_threads(2); torch.manual_seed(1)
dtype = torch.float32 if (len(sys.argv) < 2 or sys.argv[1] == "float32") else torch.float64
H, B, T, U = 128, 32, 50, 300
lstm = torch.nn.LSTM(2, H).to(dtype); lin = torch.nn.Linear(H, 1).to(dtype)
opt = torch.optim.Adam(list(lstm.parameters()) + list(lin.parameters()), lr=1e-3)
def batch():
    v = torch.rand(T, B, dtype=dtype); m = torch.zeros(T, B, dtype=dtype)
    for b in range(B):
        i, j = torch.randperm(T)[:2]; m[i, b] = 1; m[j, b] = 1
    return torch.stack([v, m], 2), (v * m).sum(0, keepdim=False).unsqueeze(1)
start = time.perf_counter()
for u in range(U):
    x, y = batch()
    out, _ = lstm(x); loss = ((lin(out[-1]) - y) ** 2).mean()
    opt.zero_grad(); loss.backward()
    torch.nn.utils.clip_grad_norm_(list(lstm.parameters()) + list(lin.parameters()), 1.0); opt.step()
print(f"{dtype} {U} updates {time.perf_counter() - start:.3f} s final loss {loss.item():.4f}")
