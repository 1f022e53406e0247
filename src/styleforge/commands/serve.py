"""`styleforge serve`: load the model, build the explorer app and run uvicorn (options: cli/serve.py)."""

import errno
import socket
import sys

from ..edit import load_edits
from ..errors import StyleforgeError
from ..latent_files import read_latents
from ..web import Explorer
from .common import load_generator

try:  # optional: FastAPI and uvicorn come with the `web` extra
    import uvicorn

    from ..web.app import create_app
except ImportError:  # depends on the install
    uvicorn = None


def _check_port(host: str, port: int) -> None:
    """One line when the address cannot be bound (uvicorn would exit with code 3 and no message)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            reason = "is in use (another server?)" if error.errno == errno.EADDRINUSE else f"cannot be bound ({error.strerror})"
            raise StyleforgeError(f"--host {host} --port {port}: the address {reason}; pick another --port") from None


def run(args) -> int:
    if uvicorn is None:
        raise StyleforgeError("the web explorer needs FastAPI and uvicorn: pip install '.[web]' (from a checkout)")
    _check_port(args.host, args.port)
    G = load_generator(args.model, args.device, args.network_key)
    edits = [edit for path in (args.edits.split(",") if args.edits else []) for edit in load_edits(path.strip())]
    explorer = Explorer(G, edits, distance=args.distance, model_name=args.model)
    shown = [(path, job_id) for path in args.projected_w or []
             for job_id in explorer.add_latents(read_latents(path), path)]
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: --host {args.host} makes the explorer reachable from other machines; it has no "
              "login — prefer an SSH tunnel to 127.0.0.1", file=sys.stderr)
    print(f"styleforge explorer for {args.model}: http://{args.host}:{args.port}  (Ctrl-C stops it)", flush=True)
    for path, job_id in shown:
        print(f"  {path}: http://{args.host}:{args.port}/?projection={job_id}", flush=True)
    uvicorn.run(create_app(explorer), host=args.host, port=args.port, log_level="warning")
    return 0
