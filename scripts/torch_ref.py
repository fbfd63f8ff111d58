"""PyTorch reference for scripts/bench-train: the same GPT, batch and optimiser as
ladder's `train` bench, timed the same way (forward, backward, AdamW apart).

Model: nanoGPT's layout, as ladder-model builds it. Learned positions, a tied head,
LayerNorm (eps 1e-5) with bias, GELU (tanh), biased linears, d_ff = 4 d. Init: N(0, 0.02),
and residual projections 0.02/sqrt(2 L). Attention is F.scaled_dot_product_attention with
is_causal=True, PyTorch's fastest eager path on CPU. AdamW: betas (0.9, 0.95), eps 1e-8,
weight decay 0.1 on matrices only, global-norm clipping at 1.0.

On a GPU (--device cuda), --precision bf16 runs the forward under torch.autocast in
bfloat16, as ladder's `[train] precision = "bf16"` does: weights, gradients and AdamW stay
f32. Each timed phase ends with the device synchronised, as ladder's bench does.

Usage: torch_ref.py --shapes 64x2x4,128x4x4 --threads 1 --mode eager|compile
       [--device cpu|cuda] [--precision f32|bf16] [--steps 10] [--warmup 2] [--json PATH]
"""
import contextlib

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, h, proj_std):
        super().__init__()
        self.h = h
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.attn_proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)
        for lin, std in ((self.qkv, 0.02), (self.attn_proj, proj_std),
                         (self.fc, 0.02), (self.mlp_proj, proj_std)):
            nn.init.normal_(lin.weight, 0.0, std)
            nn.init.zeros_(lin.bias)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        heads = lambda z: z.view(b, t, self.h, c // self.h).transpose(1, 2)
        y = F.scaled_dot_product_attention(heads(q), heads(k), heads(v), is_causal=True)
        x = x + self.attn_proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.mlp_proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Gpt(nn.Module):
    def __init__(self, vocab, context, d, layers, heads):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(context, d)
        nn.init.normal_(self.wte.weight, 0.0, 0.02)
        nn.init.normal_(self.wpe.weight, 0.0, 0.02)
        proj_std = 0.02 / math.sqrt(2 * layers)
        self.blocks = nn.ModuleList(Block(d, heads, proj_std) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)

    def forward(self, idx, targets):
        t = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(t, device=idx.device))
        for block in self.blocks:
            x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def model_flops_per_token(vocab, context, d, layers):
    """ladder-model's FlopCounts::exact: every matmul, causal attention averaged."""
    matmul_weights = layers * (4 * d * d + 2 * d * 4 * d) + vocab * d
    return 6 * matmul_weights + 6 * layers * d * (context + 1)


def bench(args, d, layers, heads):
    torch.manual_seed(0)
    device = torch.device(args.device)
    model = Gpt(args.vocab, args.context, d, layers, heads).to(device)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=1e-3, betas=(0.9, 0.95), eps=1e-8,
    )
    step_fn = torch.compile(model) if args.mode == "compile" else model
    seq = torch.randint(0, args.vocab, (args.batch, args.context + 1)).to(device)
    x, y = seq[:, :-1].contiguous(), seq[:, 1:].contiguous()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) \
        if args.precision == "bf16" else contextlib.nullcontext
    fwd = bwd = optim = 0.0
    # torch.compile traces and compiles on the first steps; they are warmup.
    warmup = args.warmup + (3 if args.mode == "compile" else 0)
    for step in range(warmup + args.steps):
        if step == warmup and args.start_line:
            wait_at_start_line(args.start_line, f"d{d}L{layers}H{heads}", args.start_count)
        t0 = time.perf_counter()
        with autocast():
            loss = step_fn(x, y)
        loss.item()
        t1 = time.perf_counter()
        loss.backward()
        sync()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        sync()
        t3 = time.perf_counter()
        if step >= warmup:
            fwd += t1 - t0
            bwd += t2 - t1
            optim += t3 - t2
    tokens = args.steps * args.batch * args.context
    return {
        "kind": "train", "impl": f"torch-{args.mode}", "d_model": d, "n_layer": layers,
        "n_head": heads, "threads": args.threads, "jobs": 1,
        "device": args.device, "precision": args.precision,
        "tok_s": tokens / (fwd + bwd + optim), "fwd_s": fwd, "bwd_s": bwd, "opt_s": optim,
        "flops_per_token": model_flops_per_token(args.vocab, args.context, d, layers),
        "steps": args.steps, "torch": torch.__version__,
    }


def wait_at_start_line(directory, name, count):
    """Marks this process ready for `name` in `directory` and waits for `count` of them."""
    os.makedirs(directory, exist_ok=True)
    open(os.path.join(directory, f"{name}.{os.getpid()}"), "w").close()
    while sum(f.startswith(name + ".") for f in os.listdir(directory)) < count:
        time.sleep(0.001)


def gemm_peak(device, precision):
    """Best of five 2048³ matmuls (PyTorch's BLAS) in f32 or bf16, in GFLOP/s."""
    n = 2048
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)
    a @ b
    sync()
    best = min(_timed(lambda: a @ b, sync) for _ in range(5))
    return 2 * n**3 / best / 1e9


def _timed(f, sync):
    t = time.perf_counter()
    f()
    sync()
    return time.perf_counter() - t


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shapes", default="64x2x4,128x4x4,256x6x8")
    p.add_argument("--context", type=int, default=256)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--vocab", type=int, default=256)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--mode", choices=["eager", "compile"], default="eager")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--precision", choices=["f32", "bf16"], default="f32")
    p.add_argument("--json")
    p.add_argument("--peak", action="store_true",
                   help="also time a 2048³ GEMM (f32, or bf16 under --precision bf16)")
    p.add_argument("--start-line", metavar="DIR",
                   help="processes timed side by side: wait in DIR for --start-count of "
                        "them after the warmup, so that no timed step overlaps another "
                        "process's start-up or compilation")
    p.add_argument("--start-count", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    out = open(args.json, "a") if args.json else None
    if args.peak:
        g = gemm_peak(args.device, args.precision)
        print(f"torch {args.precision} GEMM 2048³ on {args.device}, {args.threads} threads: "
              f"{g:.1f} GFLOP/s", file=sys.stderr)
        if out:
            out.write(json.dumps({"kind": "peak", "impl": "torch", "threads": args.threads,
                                  "device": args.device, "precision": args.precision,
                                  "gflops": g}) + "\n")
    for shape in filter(None, args.shapes.split(",")):
        d, layers, heads = (int(v) for v in shape.split("x"))
        r = bench(args, d, layers, heads)
        print(f"d{d} L{layers} H{heads} torch {args.mode} {args.precision} on {args.device}, "
              f"{args.threads} thread(s): "
              f"{r['tok_s']:.0f} tok/s", file=sys.stderr)
        if out:
            out.write(json.dumps(r) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
