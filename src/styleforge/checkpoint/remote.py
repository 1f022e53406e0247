"""Models by URL or by release name: NVIDIA's published network URLs (as their READMEs pass them to
`--network`) and short names for the official StyleGAN2 releases, downloaded once into a cache
(`$STYLEFORGE_CACHE/models`, default ~/.cache/styleforge/models) with a progress bar, written
atomically, resumed after an interruption (HTTP Range), and checked on reuse against the SHA-256
recorded at the first download. Offline or on an HTTP error: one line that says what to do."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from ..errors import StyleforgeError
from ..files import atomic_path, file_sha256
from ..names import MODEL_RELEASES

RELEASES = MODEL_RELEASES  # short name → published URL (names.py: the CLI's parsers read it without torch)
CHUNK = 1 << 20
_verified: dict[str, Path] = {}  # URL → cached file whose checksum this process has checked


def cache_dir() -> Path:
    base = os.environ.get("STYLEFORGE_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "styleforge"
    return Path(base) / "models"


def is_url(source) -> bool:
    return isinstance(source, str) and source.startswith(("http://", "https://"))


def cached_path(url: str) -> Path:
    """Where a URL's file lives in the cache: its name, prefixed by a hash of the whole URL."""
    name = url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] or "model"
    return cache_dir() / f"{hashlib.sha256(url.encode()).hexdigest()[:12]}-{name}"


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def resolve_model(source) -> Path | str:
    """A local path for `source`: a release name or an http(s) URL is fetched into the cache (or found
    there); anything else is returned as given."""
    if isinstance(source, str) and source in RELEASES:
        source = RELEASES[source]
    if not is_url(source):
        return source
    if source in _verified:
        return _verified[source]
    path = cached_path(source)
    if path.is_file() and _record_path(path).is_file():
        recorded = json.loads(_record_path(path).read_text()).get("sha256")
        if recorded == file_sha256(path):
            _verified[source] = path
            return path
        raise StyleforgeError(f"the cached copy of {source} ({path}) no longer matches the SHA-256 recorded when "
                              f"it was downloaded ({recorded[:12]}…): delete it to download again")
    _download(source, path)
    _verified[source] = path
    return path


def _offline_hint(url: str, path: Path) -> str:
    return f"download {url} by hand to {path}, or pass a local file"


def _download(url: str, path: Path) -> None:
    """Fetch `url` to `path` (resuming a partial `.part` file), then record its SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    total = None
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            resumed = have > 0 and response.status == 206
            if not resumed:
                have = 0
            length = response.headers.get("Content-Length")
            total = have + int(length) if length is not None else None
            with open(part, "ab" if resumed else "wb") as f, tqdm(
                    total=total, initial=have, unit="B", unit_scale=True, desc=path.name.split("-", 1)[-1],
                    disable=None) as bar:
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    f.write(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # the range starts at the end: the partial file is complete
            pass
        else:
            raise StyleforgeError(f"{url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:  # offline, DNS, reset mid-way
        got = part.stat().st_size if part.is_file() else 0
        kept = f"; {got:,} bytes kept, run again to resume" if got else ""
        reason = getattr(error, "reason", None) or error
        raise StyleforgeError(f"{url} could not be downloaded ({reason}){kept}; {_offline_hint(url, path)}") from None
    got = part.stat().st_size
    if total is not None and got != total:
        raise StyleforgeError(f"{url}: the download ended at {got:,} of {total:,} bytes (kept; run again to resume)")
    digest = file_sha256(part)
    with atomic_path(_record_path(path)) as tmp:
        tmp.write_text(json.dumps({"url": url, "sha256": digest, "bytes": got}, indent=2))
    os.replace(part, path)


def cached_models() -> list[dict]:
    """What is in the model cache: {url, path, bytes, sha256} for each complete download."""
    folder = cache_dir()
    found = []
    for record in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        path = record.with_name(record.name[:-len(".json")])
        if path.is_file():
            info = json.loads(record.read_text())
            found.append({"url": info.get("url"), "path": str(path), "bytes": path.stat().st_size,
                          "sha256": info.get("sha256")})
    return found
