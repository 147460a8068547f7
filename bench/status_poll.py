"""What the dashboard's poll of `GET /api/admin/status` costs on a large model cache, and what the cache walk
it used to make on every call would add.

The gateway runs as `inference-gateway serve` in a subprocess, with three slots (`qwen`, `canary`,
`pyannote`) named by Hub ids whose cache entries are laid out as `huggingface_hub` writes them: `--folders`
folders of 2 files (links into `blobs/`) per snapshot. The client times `--polls` sequential polls (the
HTTP round trip included). In the same run, the cache walk each slot made on every poll before the walk was
kept (`BaseModelWrapper._walk_cache`, the same code) is timed on the same folders.

    .venv/bin/python bench/status_poll.py [--folders 1500] [--polls 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx

from app.config import Settings
from app.infra.hub_download import hub_cache_dir_name
from app.models.canary import CanaryASRModel
from bench_common import cpu_model, serve_subprocess

ROOT = Path(__file__).resolve().parents[1]

KEY = "bench-admin-key-0123"
REPOS = {"qwen": "acme/llm", "canary": "acme/asr", "pyannote": "acme/diarization"}
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def fill_cache(cache: Path, repo_id: str, folders: int) -> None:
    repo = cache / hub_cache_dir_name(repo_id)
    (repo / "blobs").mkdir(parents=True)
    for f in range(folders):
        folder = repo / "snapshots" / COMMIT / f"part-{f:04d}"
        folder.mkdir(parents=True)
        for i in range(2):
            blob = repo / "blobs" / f"{f:04d}{i}"
            blob.write_bytes(b"{}")
            (folder / f"shard-{i}.json").symlink_to(blob)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folders", type=int, default=1500, help="folders of 2 files per slot's snapshot")
    parser.add_argument("--polls", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        cache = Path(temp) / "cache"
        for repo in REPOS.values():
            fill_cache(cache, repo, args.folders)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "backend"),
            "HF_HUB_OFFLINE": "1",
            "API_PORT": "8791",
            "MODEL_CACHE_DIR": str(cache),
            "ENABLED_MODELS": ",".join(REPOS),
            "QWEN_MODEL_ID": REPOS["qwen"],
            "CANARY_MODEL_ID": REPOS["canary"],
            "PYANNOTE_MODEL_ID": REPOS["pyannote"],
            "ADMIN_API_KEYS": f"bench:{KEY}",
            "LOG_LEVEL": "warning",
            "FRONTEND_DIST": "",
        }
        workdir = Path(temp) / "run"
        workdir.mkdir()
        headers = {"Authorization": f"Bearer {KEY}"}
        with serve_subprocess(env, workdir, subprocess.DEVNULL), httpx.Client(headers=headers) as http:
            url = "http://127.0.0.1:8791/api/admin/status"
            deadline = time.monotonic() + 120
            while True:
                try:
                    http.get(url).raise_for_status()  # the first poll also makes the dependency report
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the gateway did not start"
                    time.sleep(0.2)
            polls = []
            for _ in range(args.polls):
                started = time.perf_counter()
                http.get(url).raise_for_status()
                polls.append(time.perf_counter() - started)
        settings = Settings(_env_file=None, model_cache_dir=cache, canary_model_id=REPOS["canary"])
        wrapper = CanaryASRModel(settings, lambda: None)
        walks = []
        for _ in range(args.polls):
            started = time.perf_counter()
            assert wrapper._walk_cache()
            walks.append(time.perf_counter() - started)
    print(f"{date.today()} {cpu_model()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"cache: 3 slots x {args.folders} folders x 2 files = {3 * 2 * args.folders} files")
    print(f"status poll, ms: median {1000 * statistics.median(polls):.2f}, p90 {1000 * percentile(polls, 0.9):.2f}")
    walk = statistics.median(walks)
    print(f"one slot's cache walk, ms: median {1000 * walk:.2f}; three slots per poll: {3000 * walk:.2f}")


if __name__ == "__main__":
    main()
