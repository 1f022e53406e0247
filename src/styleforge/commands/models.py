"""`styleforge models`: release names with their URLs, and the cached downloads (options: cli/models.py)."""

import json

from ..checkpoint.remote import RELEASES, cache_dir, cached_models


def run(args) -> int:
    cached = {item["url"]: item for item in cached_models()}
    if args.json:
        print(json.dumps({"releases": RELEASES, "cache": str(cache_dir()), "cached": list(cached.values())},
                         indent=2))
        return 0
    width = max(len(name) for name in RELEASES)
    print(f"{'release name'.ljust(width)}  {'cached':>8}  url")
    for name, url in RELEASES.items():
        size = f"{cached[url]['bytes'] / 2 ** 20:,.0f} MB" if url in cached else "-"
        print(f"{name.ljust(width)}  {size:>8}  {url}")
    others = [item for url, item in cached.items() if url not in RELEASES.values()]
    for item in others:
        print(f"{'(by URL)'.ljust(width)}  {item['bytes'] / 2 ** 20:>5,.0f} MB  {item['url']}")
    print(f"cache: {cache_dir()} ({len(cached)} file(s))")
    return 0
