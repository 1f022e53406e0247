"""Training and inference side by side with the reference networks, as issue 14's table: training
img/s and s/kimg (all phases, lazy R1 + PL, EMA; synthetic reals from memory, so no data loading),
inference img/s, and peak memory (CUDA: max allocated; CPU: the process's peak RSS). Every row runs in
its own child process (its own peak memory), rows alternate, and each keeps its best of --repeats runs.

Ours: the public TrainingStep and Generator (precision fp32, TF32, bf16 / fp16 autocast, or 'mixed' =
the reference's num_fp16_res policy; --resample picks the FIR paths to compare). The reference: the
networks and StyleGAN2Loss of the work tree given with --reference-src (NVlabs/stylegan2-ada-pytorch or
NVlabs/stylegan3; nothing of it is in this repository), with our models' arguments and weights. Without
--reference-src only our rows run.

Settings: CPU (default without CUDA) = 32 px, batch 32, channel_base 4096, channel_max 256, z/w 512;
CUDA = paper256 at batch 32 (training and inference) and config F 1024 (inference).

Usage:
  python benchmarks/side_by_side.py --reference-src ~/src/stylegan2-ada-pytorch
  python benchmarks/side_by_side.py --device cuda --reference-src ~/src/stylegan3 --resample auto,conv,fold
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch

CPU_SETTING = dict(preset="small", resolution=32, g=dict(z_dim=512, w_dim=512, channel_base=4096, channel_max=256),
                   d=dict(channel_base=4096, channel_max=256))
SETTINGS = {
    "cpu32": CPU_SETTING,
    "paper256": dict(preset="paper256", resolution=256, g={}, d={}),
    "configF": dict(preset="stylegan2", resolution=1024, g={}, d={}),
}
AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _peak_memory(device: str) -> dict:
    if device.startswith("cuda"):
        return {"peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2 ** 30, 2)}
    return {"peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20, 2)}


def _networks(setting: dict, batch: int, device: str, precision: str):
    """Our training step for `setting` (the public pieces, as styleforge.train sets them up)."""
    from data_pipeline import MemoryReals
    from train_speed import build

    options = dict(g_overrides=setting["g"], d_overrides=setting["d"])
    if precision in ("bf16", "fp16", "mixed", "mixed-bf16"):
        options["precision"] = precision
    config, step, reals = build(setting["preset"], setting["resolution"], batch, device, **options)
    return step, MemoryReals(reals, batch, device)


def train_ours(setting: dict, batch: int, device: str, precision: str, cycles: int) -> float:
    from data_pipeline import rate  # one warm-up cycle, then `cycles` timed 16-step cycles

    step, reals = _networks(setting, batch, device, precision)
    return rate(step, reals, cycles, batch, device)


def train_reference(setting: dict, batch: int, device: str, precision: str, cycles: int, src: str) -> float:
    from reference_nets import ReferenceTrainingStep, import_reference, reference_network

    networks, loss = import_reference(src)
    step, reals = _networks(setting, batch, "cpu", "fp32")
    fp16_res = 4 if precision == "mixed" else 0
    G = reference_network(networks, step.G, fp16_res).to(device)
    D = reference_network(networks, step.D, fp16_res).to(device)
    config = step.config
    ref = ReferenceTrainingStep(networks, loss, G, D, batch, lr=config.glr, gamma=config.gamma,
                                pl_weight=config.pl_weight, style_mixing=config.style_mixing_prob, device=device)
    real_img = reals.images.to(device)
    for _ in range(16):
        ref.run(real_img)
    _sync(device)
    start = time.perf_counter()
    for _ in range(16 * cycles):
        ref.run(real_img)
    _sync(device)
    return 16 * batch * cycles / (time.perf_counter() - start)


def infer(G, batch: int, device: str, iters: int, call) -> float:
    z = torch.randn(batch, G.z_dim, device=device)
    with torch.no_grad():
        for _ in range(2):
            call(z)
        _sync(device)
        start = time.perf_counter()
        for _ in range(iters):
            call(z)
        _sync(device)
    return batch * iters / (time.perf_counter() - start)


def infer_ours(setting: dict, batch: int, device: str, precision: str, iters: int) -> float:
    import styleforge as sf
    from styleforge.models.precision import apply_precision

    G = sf.build(setting["preset"], "G", img_resolution=setting["resolution"], **setting["g"]).to(device).eval()
    apply_precision(G, precision if precision in ("mixed", "mixed-bf16") else "fp32")
    if precision in AUTOCAST:
        with torch.autocast(device_type=torch.device(device).type, dtype=AUTOCAST[precision]):
            return infer(G, batch, device, iters, lambda z: G(z, None))
    return infer(G, batch, device, iters, lambda z: G(z, None))


def infer_reference(setting: dict, batch: int, device: str, precision: str, iters: int, src: str) -> float:
    import styleforge as sf
    from reference_nets import import_reference, reference_network

    networks, _ = import_reference(src)
    ours = sf.build(setting["preset"], "G", img_resolution=setting["resolution"], **setting["g"])
    G = reference_network(networks, ours, 4 if precision == "mixed" else 0).to(device).eval()
    best = 0.0
    for fused in (True, False):  # its best mode
        best = max(best, infer(G, batch, device, iters, lambda z: G(z, None, fused_modconv=fused)))
    return best


def child(spec: dict) -> dict:
    from styleforge.nn import fastpath
    from styleforge.runtime import tune_allocator

    device = spec["device"]
    if spec["impl"] == "ours":
        fastpath.configure(spec["resample"])
        if not spec["default_malloc"]:
            tune_allocator()  # as the styleforge command does
    if device.startswith("cuda"):
        tf32 = spec["precision"] == "tf32"
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = tf32
    setting, precision = SETTINGS[spec["setting"]], spec["precision"]
    precision = "fp32" if precision == "tf32" else precision
    if spec["kind"] == "train" and spec["impl"] == "ours":
        rate = train_ours(setting, spec["batch"], device, precision, spec["cycles"])
    elif spec["kind"] == "train":
        rate = train_reference(setting, spec["batch"], device, precision, spec["cycles"], spec["src"])
    elif spec["impl"] == "ours":
        rate = infer_ours(setting, spec["batch"], device, precision, spec["iters"])
    else:
        rate = infer_reference(setting, spec["batch"], device, precision, spec["iters"], spec["src"])
    result = {"images_per_s": round(rate, 2), **_peak_memory(device)}
    if spec["kind"] == "train":
        result["s_per_kimg"] = round(1000 / rate, 1)
    return result


def plan(args) -> list[dict]:
    """The rows: (kind, setting, impl, precision, resample)."""
    cuda = args.device.startswith("cuda")
    resamples = args.resample.split(",")
    base = dict(device=args.device, batch=args.batch, cycles=args.cycles, iters=args.iters, src=args.reference_src,
                default_malloc=args.default_malloc)
    rows = []

    def add(kind, setting, impl, precision, resample="auto"):
        rows.append({**base, "kind": kind, "setting": setting, "impl": impl, "precision": precision,
                     "resample": resample})

    train_setting, infer_settings = ("paper256", ["paper256", "configF"]) if cuda else ("cpu32", ["cpu32"])
    our_precisions = ["fp32", "tf32", "bf16", "fp16", "mixed"] if cuda else ["fp32"]
    ref_precisions = ["mixed", "fp32"] if cuda else ["fp32"]
    for precision in our_precisions:
        for resample in resamples:
            add("train", train_setting, "ours", precision, resample)
    if args.reference_src:
        for precision in ref_precisions:
            add("train", train_setting, "reference", precision)
    for setting in infer_settings:
        for precision in (["fp32", "mixed", "bf16", "fp16"] if cuda else ["fp32"]):
            for resample in resamples:
                add("infer", setting, "ours", precision, resample)
        if args.reference_src:
            for precision in ref_precisions:
                add("infer", setting, "reference", precision)
    return rows


def label(row: dict) -> str:
    name = f"{row['kind']} {row['setting']} {row['impl']} {row['precision']}"
    return name + (f" resample={row['resample']}" if row["impl"] == "ours" else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference-src", default=None, metavar="DIR",
                        help="work tree of NVlabs/stylegan2-ada-pytorch or NVlabs/stylegan3 (optional)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--cycles", type=int, default=1, help="timed 16-step training cycles per run")
    parser.add_argument("--iters", type=int, default=10, help="timed inference batches per run")
    parser.add_argument("--repeats", type=int, default=2, help="runs per row (alternating); the best is kept")
    parser.add_argument("--resample", default="auto", help="our FIR paths to compare: auto,conv,shift,fold")
    parser.add_argument("--only", default=None, help="run only rows whose label contains this text")
    parser.add_argument("--default-malloc", action="store_true", help="do not tune the allocator for our rows")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    if args.reference_src:
        from reference_nets import ReferenceUnavailable, import_reference
        try:
            import_reference(args.reference_src)
        except ReferenceUnavailable as error:
            sys.exit(f"error: {error}")
    rows = [row for row in plan(args) if args.only is None or args.only in label(row)]
    results = {label(row): None for row in rows}
    for _ in range(args.repeats):
        for row in rows:
            done = subprocess.run([sys.executable, __file__, "--child", json.dumps(row)], capture_output=True,
                                  text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                      [os.path.dirname(os.path.abspath(__file__)), os.environ.get("PYTHONPATH", "")])})
            if done.returncode != 0:
                results[label(row)] = {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            best = results[label(row)]
            if best is None or "error" in best or result["images_per_s"] > best["images_per_s"]:
                results[label(row)] = result
    print(json.dumps({"benchmark": "side_by_side", "device": args.device, "batch": args.batch,
                      "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "gpu": torch.cuda.get_device_name() if args.device.startswith("cuda") else None,
                      "reference_src": args.reference_src, "results": results,
                      "ratios_to_reference": ratios(rows, results)}, indent=2))


def ratios(rows: list[dict], results: dict) -> dict:
    """images/s of each of our rows ÷ each reference row of the same kind and setting."""
    out = {}
    for ours in (r for r in rows if r["impl"] == "ours"):
        for ref in (r for r in rows if r["impl"] == "reference"):
            a, b = results.get(label(ours)), results.get(label(ref))
            if ref["kind"] == ours["kind"] and ref["setting"] == ours["setting"] and a and b \
                    and "error" not in a and "error" not in b:
                out[f"{label(ours)} / reference {ref['precision']}"] = round(a["images_per_s"] / b["images_per_s"], 3)
    return out


if __name__ == "__main__":
    main()
