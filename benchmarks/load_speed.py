"""Loading a config-F model (1024 px, G 30 M + D 29 M parameters): styleforge's native file and an
NVIDIA network pickle, each load in a fresh process (its own wall time from interpreter start to a
ready network, and its own peak RSS), side by side with NVIDIA's own loader (`legacy.load_network_pkl`)
when a reference work tree is given. Prints JSON.

  python benchmarks/load_speed.py                                   # our native file only
  python benchmarks/load_speed.py --reference-src ~/stylegan2-ada-pytorch   # + a config-F pickle written
        # by their code, loaded by their loader and by ours (their dnnlib needs `requests` importable)
  python benchmarks/load_speed.py --reference-src DIR --pickle ffhq.pkl      # a pickle you have
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import styleforge as sf

TIMED = textwrap.dedent("""
    import resource, sys, time
    started = time.perf_counter()
    {body}
    print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20,
          "torch._dynamo" in sys.modules)
""")
OURS = "import styleforge as sf\nnetwork = sf.load({path!r}, network_key={key!r})"
OURS_ALL = "from styleforge.checkpoint import load_networks\nnetworks = load_networks({path!r})"
THEIRS = ("sys.path.insert(0, {src!r})\nimport legacy\nwith open({path!r}, 'rb') as f:\n"
          "    network = legacy.load_network_pkl(f)['G_ema']")
WRITE_PICKLE = textwrap.dedent("""
    import pickle, sys, torch
    sys.path.insert(0, {src!r})
    family = {family!r}
    try:
        from training.networks_stylegan2 import Discriminator, Generator  # stylegan3
        flat = True
    except ImportError:
        from training.networks import Discriminator, Generator  # stylegan2-ada-pytorch
        flat = False
    synthesis = dict(channel_base=32768, channel_max=512, num_fp16_res=4, conv_clamp=256)
    g = dict(z_dim=512, c_dim=0, w_dim=512, img_resolution=1024, img_channels=3, mapping_kwargs=dict(num_layers=8))
    g.update(synthesis if flat else dict(synthesis_kwargs=synthesis))
    if family.startswith("stylegan3"):  # the alias-free G as stylegan3's train.py configures T / R
        from training.networks_stylegan3 import Generator
        g["mapping_kwargs"] = dict(num_layers=2)
        if family == "stylegan3-r":
            g.update(conv_kernel=1, use_radial_filters=True, channel_base=65536, channel_max=1024)
    d = dict(c_dim=0, img_resolution=1024, img_channels=3, **synthesis)
    nets = dict(G=Generator(**g), D=Discriminator(**d), G_ema=Generator(**g))
    with open({path!r}, "wb") as f:
        pickle.dump(dict(**{{k: v.eval().requires_grad_(False) for k, v in nets.items()}}, augment_pipe=None,
                         training_set_kwargs=None), f)
""")


def timed(body: str, repeats: int) -> dict:
    """Best wall time of `repeats` fresh processes running `body`, with that run's peak RSS."""
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", TIMED.format(body=body)],
                             capture_output=True, text=True, check=True).stdout.split()
        runs.append({"seconds": round(float(out[-3]), 3), "peak_rss_gib": round(float(out[-2]), 3),
                     "imports_torch_dynamo": out[-1] == "True"})
    return min(runs, key=lambda run: run["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference-src", default=None, help="stylegan2-ada-pytorch or stylegan3 work tree")
    parser.add_argument("--pickle", default=None, help="an NVIDIA network pickle (default: config F written "
                                                       "by the reference's code)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--family", choices=["stylegan2", "stylegan3-t", "stylegan3-r"], default="stylegan2",
                        help="the generator of the written pickle (stylegan3-*: --reference-src is a stylegan3 tree)")
    args = parser.parse_args()
    result = {"benchmark": "load_speed", "repeats": args.repeats, "family": args.family}
    with tempfile.TemporaryDirectory() as folder:
        native = Path(folder) / "configF.safetensors"
        sf.save(sf.build("stylegan2", "G", resolution=1024), native)
        result["native_G"] = {"bytes": native.stat().st_size, **timed(OURS.format(path=str(native), key=None),
                                                                      args.repeats)}
        pickle_path = args.pickle
        if pickle_path is None and args.reference_src:
            pickle_path = str(Path(folder) / "configF.pkl")
            subprocess.run([sys.executable, "-c", WRITE_PICKLE.format(src=args.reference_src, path=pickle_path,
                                                                      family=args.family)],
                           check=True, env=os.environ)
        if pickle_path:
            result["pickle_bytes"] = os.path.getsize(pickle_path)
            result["ours_pickle_G_ema"] = timed(OURS.format(path=pickle_path, key="G_ema"), args.repeats)
            result["ours_pickle_all"] = timed(OURS_ALL.format(path=pickle_path), args.repeats)
            if args.reference_src:
                result["theirs_pickle_G_ema"] = timed(THEIRS.format(src=args.reference_src, path=pickle_path),
                                                      args.repeats)
                result["ours_over_theirs"] = round(result["ours_pickle_G_ema"]["seconds"]
                                                   / result["theirs_pickle_G_ema"]["seconds"], 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
