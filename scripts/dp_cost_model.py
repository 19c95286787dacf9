#!/usr/bin/python3
"""Weak-scaling cost model of tttlm's data parallelism on GPUs, for when fewer GPUs are at hand
than the claim needs. Every input that is not measured here is a flag with a stated default, and the output
says so: this is a model, not a measurement.

Per optimizer step and GPU (weak scaling: each GPU keeps its own batch of --tokens-per-gpu tokens):
  compute   T_c = flops_per_token x tokens / (mfu x peak)       (flops_per_token from `tttlm info --json`,
                                                                  forward + backward incl. the TTT inner loop)
  backward  T_b = (2/3) T_c / accumulation                       (the last micro-batch's backward, during
                                                                  which tttlm all-reduces its buckets)
  all-reduce of the f32 gradients, ring algorithm (NCCL):
            T_ar(bytes) = n_buckets x latency x 2(W-1) + bytes x 2(W-1)/W / busbw
  exposed   = max(0, T_ar(all) - T_b) + T_ar(last bucket)        (the last bucket, which holds the tied
                                                                  embedding, is ready only when backward ends)
  efficiency(W) = T_c / (T_c + exposed)                          (1 GPU: nothing to reduce)
busbw: --nvlink-busbw within a node (W <= --gpus-per-node), --net-busbw across nodes.
Usage: scripts/dp_cost_model.py [--tttlm build/apps/tttlm] [--out FILE] [flags below]
"""
import argparse
import json
import os
import subprocess
import sys

KINDS = ["ttt-linear-mamba", "ttt-mlp-mamba", "ttt-linear-transformer", "ttt-mlp-transformer", "transformer", "mamba"]
SIZES = ["125m", "350m", "760m", "1.3b"]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tttlm", default=os.path.join(root, "build", "apps", "tttlm"))
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--peak-tflops", type=float, default=989.0, help="dense bf16 peak per GPU (H100 SXM datasheet)")
    ap.add_argument("--mfu", type=float, default=0.35, help="assumed model FLOPs utilisation of one GPU")
    ap.add_argument("--tokens-per-gpu", type=int, default=65536,
                    help="tokens per GPU per step (the paper's 0.5M-token batch over 8 GPUs)")
    ap.add_argument("--micro-tokens", type=int, default=16384, help="tokens per micro-batch (accumulation = ratio)")
    ap.add_argument("--nvlink-busbw", type=float, default=350.0, help="GB/s, NCCL all-reduce bus bandwidth in a node")
    ap.add_argument("--net-busbw", type=float, default=45.0, help="GB/s, across nodes (400 Gb/s NIC per GPU)")
    ap.add_argument("--latency-us", type=float, default=10.0, help="per ring hop and bucket")
    ap.add_argument("--gpus-per-node", type=int, default=8)
    ap.add_argument("--bucket-mb", type=float, default=25.0)
    ap.add_argument("--worlds", default="1,2,4,8,16,32")
    ap.add_argument("--out", default="")
    a = ap.parse_args()

    worlds = [int(w) for w in a.worlds.split(",")]
    lines = ["# Weak-scaling cost model (scripts/dp_cost_model.py): a MODEL with the assumptions below, not a measurement",
             f"# peak {a.peak_tflops} TFLOP/s x MFU {a.mfu}; {a.tokens_per_gpu} tokens/GPU/step in micro-batches of "
             f"{a.micro_tokens}; busbw {a.nvlink_busbw} GB/s in a node of {a.gpus_per_node}, {a.net_busbw} GB/s across "
             f"nodes; {a.latency_us} us per hop; buckets of {a.bucket_mb} MB; f32 gradients",
             "",
             "| model | parameters | step compute s | all-reduce s (8 GPUs) | " +
             " | ".join(f"eff. W={w}" for w in worlds) + " | W=8 without overlap |",
             "|---|---|---|---|" + "---|" * len(worlds) + "---|"]
    worst = 1.0
    for kind in a.kinds.split(","):
        for size in SIZES:
            cfg = os.path.join(root, "configs", "models", f"{kind}-{size}.json")
            info = json.loads(subprocess.run([a.tttlm, "info", cfg, "--json"], check=True, capture_output=True,
                                             text=True).stdout)
            n, fpt = info["parameters"], info["flops_per_token"]
            t_c = fpt * a.tokens_per_gpu / (a.mfu * a.peak_tflops * 1e12)
            accum = max(1, a.tokens_per_gpu // a.micro_tokens)
            t_b = (2.0 / 3.0) * t_c / accum
            total = 4.0 * n
            last = min(total, max(a.bucket_mb * 2**20, 4.0 * info["embedding_parameters"]))
            buckets = max(1, int(-(-total // (a.bucket_mb * 2**20))))

            def t_ar(nbytes, nb, w):
                bw = (a.nvlink_busbw if w <= a.gpus_per_node else a.net_busbw) * 1e9
                return nb * a.latency_us * 1e-6 * 2 * (w - 1) + nbytes * 2 * (w - 1) / w / bw

            effs = []
            for w in worlds:
                exposed = 0.0 if w == 1 else max(0.0, t_ar(total, buckets, w) - t_b) + t_ar(last, 1, w)
                effs.append(t_c / (t_c + exposed))
                if w <= 8:
                    worst = min(worst, effs[-1])
            no_overlap = t_c / (t_c + t_ar(total, buckets, 8))
            lines.append(f"| {kind} {size} | {n / 1e6:.1f}M | {t_c:.3f} | {t_ar(total, buckets, 8):.4f} | " +
                         " | ".join(f"{e * 100:.1f}%" for e in effs) + f" | {no_overlap * 100:.1f}% |")
    lines += ["", f"lowest modelled efficiency from 1 to 8 GPUs: {worst * 100:.1f}% (target >= 90%)"]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
