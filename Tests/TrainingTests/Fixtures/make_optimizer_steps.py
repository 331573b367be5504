"""Makes optimizer-steps-pytorch.json: PyTorch's own float64 SGD (momentum), Adam and RMSprop
updates on fixed parameters and gradients, the numbers GateLab's optimizers are pinned to.

Run once, from the repository root, with PyTorch installed (GateLab's tests never run Python):

    python Tests/TrainingTests/Fixtures/make_optimizer_steps.py

The gradients include exact zeros and 1e-8 (where Adam's and RMSprop's epsilon decides the
step: without it a zero gradient gives 0/0 and 1e-8 a step twice as large) and large values.
"""
import json
import torch

torch.set_default_dtype(torch.float64)
initial = [[0.5, -1.25, 2.0, 0.0, 3e-3, -7.5], [1.0, -0.125]]
gradients = [  # per step, per tensor
    [[0.1, -0.2, 0.0, 1e-8, 5.0, -3e-4], [0.0, 2.5]],
    [[-0.3, 0.05, 0.0, 1e-8, -4.0, 1e-3], [1e-8, -1.5]],
    [[0.2, 0.0, 0.0, -1e-8, 3.0, 2e-3], [0.0, 0.75]],
    [[1e-8, 0.7, 0.0, 1e-8, -2.0, -1e-3], [-1e-8, 0.0]],
    [[0.0, -0.4, 0.0, 0.0, 1.0, 5e-4], [2.0, -0.25]],
]
settings = {
    "sgd": (lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9), 0.01),
    "adam": (lambda ps: torch.optim.Adam(ps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8), 1e-3),
    "rmsprop": (lambda ps: torch.optim.RMSprop(ps, lr=1e-2, alpha=0.99, eps=1e-8), 1e-2),
}
out = {"torch_version": torch.__version__, "initial": initial, "gradients": gradients, "optimizers": {}}
for name, (make, lr) in settings.items():
    params = [torch.tensor(p, requires_grad=True) for p in initial]
    opt = make(params)
    steps = []
    for g in gradients:
        for p, gi in zip(params, g):
            p.grad = torch.tensor(gi)
        opt.step()
        steps.append([p.detach().tolist() for p in params])
    out["optimizers"][name] = {"lr": lr, "parameters_after_each_step": steps}
with open("Tests/TrainingTests/Fixtures/optimizer-steps-pytorch.json", "w") as f:
    json.dump(out, f)
    f.write("\n")
