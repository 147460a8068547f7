"""Hugging Face downloads with byte-level progress.

`snapshot_download` runs on a worker thread and writes into the standard hub cache layout
(`models--org--repo/blobs`, `snapshots/<sha>`), shared with every other `huggingface_hub` user.
Progress is the number of bytes present in that cache for the files of the pinned revision,
over the sizes the Hub reports for them.
"""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import Callable
from pathlib import Path


def hub_cache_dir_name(repo_id: str) -> str:
    """The folder `huggingface_hub` uses for a model repo: `models--org--repo`."""
    return "models--" + repo_id.replace("/", "--")


POLL_INTERVAL_S = 0.5


def _wanted(name: str, patterns: list[str] | None) -> bool:
    return patterns is None or any(fnmatch.fnmatch(name, p) for p in patterns)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _bytes_present(blobs: Path, blob_names: list[str]) -> int:
    """Complete blobs plus partial ones (`<etag>.incomplete` or `<etag>.<random>.incomplete`)."""
    done = 0
    for name in blob_names:
        complete = blobs / name
        if complete.exists():
            done += _size(complete)
        else:
            done += max((_size(p) for p in blobs.glob(f"{name}*.incomplete")), default=0)
    return done


async def download_snapshot(
    repo_id: str,
    revision: str | None,
    cache_dir: Path,
    token: str | None,
    allow_patterns: list[str] | None,
    endpoint: str | None,
    on_progress: Callable[[int, int], None],
) -> Path:
    from huggingface_hub import HfApi, snapshot_download

    info = await asyncio.to_thread(
        HfApi(endpoint=endpoint, token=token).model_info, repo_id, revision=revision, files_metadata=True
    )
    siblings = [s for s in info.siblings or [] if _wanted(s.rfilename, allow_patterns)]
    total = sum(s.size or 0 for s in siblings)
    blob_names = [name for s in siblings if (name := s.lfs.sha256 if s.lfs else s.blob_id)]
    blobs = cache_dir / hub_cache_dir_name(repo_id) / "blobs"
    on_progress(0, total)
    task = asyncio.create_task(
        asyncio.to_thread(
            snapshot_download,
            repo_id=repo_id,
            revision=revision,
            cache_dir=cache_dir,
            token=token,
            allow_patterns=allow_patterns,
            endpoint=endpoint,
        )
    )
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=POLL_INTERVAL_S)
            on_progress(min(_bytes_present(blobs, blob_names), total), total)
        path = Path(task.result())
    finally:
        if not task.done():
            task.cancel()
    on_progress(total, total)
    return path


async def cached_snapshot(
    repo_id: str, revision: str | None, cache_dir: Path, allow_patterns: list[str] | None
) -> Path | None:
    """The snapshot already in the cache for `revision` (default branch if None), without network."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        path = await asyncio.to_thread(
            snapshot_download,
            repo_id=repo_id,
            revision=revision,
            cache_dir=cache_dir,
            allow_patterns=allow_patterns,
            local_files_only=True,
        )
    except LocalEntryNotFoundError:
        return None
    return Path(path)
