"""What large or unauthenticated request bodies cost the gateway: time to the answer, the server's peak RSS
growth, and the worst `/health` delay while each request is handled.

The gateway runs as `inference-gateway serve` in a subprocess (LLM slot: the tests' tiny Qwen3, loaded
before the first scenario, so no scenario pays for the load; a client key). Each scenario sends one
request over a raw socket (its body as fast as the server takes it), while a second connection polls
`/health`; the RSS of the server and its worker processes is sampled every 5 ms. Scenarios:

- `50 MiB JSON, no key`: a chat body declared at 50 MiB, without a key;
- `24 MiB chunked upload, no key`: a multipart upload without `Content-Length`, without a key;
- `50 MiB chat, 1.7 M messages`: the same JSON with a client key;
- `largest allowed chat body`: just under `MAX_JSON_BODY_MB` of tiny messages, with a client key;
- `2,048 messages`: OpenAI's most, 1 KiB each, with a client key;
- `token lists`: a completion whose prompt is just under `MAX_JSON_BODY_MB` of one-token lists.

    .venv/bin/python bench/hostile_bodies.py [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import psutil

from bench_common import cpu_model, serve_subprocess

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-client-key-0123"
MiB = 2**20


@dataclass
class Outcome:
    scenario: str
    status: int | None
    body_sent_mib: float
    answer_s: float
    rss_growth_mib: float
    worst_health_ms: float


def chat_body(messages: int) -> bytes:
    return json.dumps(
        {"model": "qwen", "max_tokens": 1, "messages": [{"role": "user", "content": ""}] * messages}
    ).encode()


def largest_chat_body(limit: int) -> bytes:
    """Tiny messages up to just under `limit` bytes."""
    per_message = len(chat_body(2)) - len(chat_body(1))
    return chat_body((limit - 200) // per_message)


def send(port: int, head: str, body: bytes | None, chunked_bytes: int = 0) -> tuple[int | None, int]:
    """The request's head, then its body while the server has not answered; (status, body bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    sock.sendall(head.encode("latin-1") + b"\r\n")
    sent = 0
    sock.setblocking(False)
    answer = b""

    def answered() -> bool:
        nonlocal answer
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            return False
        answer += data
        return True

    pieces: list[bytes] = []
    if body is not None:
        pieces = [body[i : i + MiB] for i in range(0, len(body), MiB)]
    elif chunked_bytes:
        part = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
        frame = f"{MiB:x}\r\n".encode() + b"\0" * MiB + b"\r\n"
        closing = b"\r\n--x--\r\n"
        pieces = [f"{len(part):x}\r\n".encode() + part + b"\r\n"] + [frame] * (chunked_bytes // MiB)
        pieces.append(f"{len(closing):x}\r\n".encode() + closing + b"\r\n0\r\n\r\n")  # the end of the body
    for piece in pieces:
        if answered():
            break
        view = memoryview(piece)
        while view:
            try:
                view = view[sock.send(view) :]
            except BlockingIOError:
                if answered():
                    break
                time.sleep(0.001)
            except (BrokenPipeError, ConnectionResetError):
                break
        else:
            sent += len(piece)
            continue
        break
    sock.setblocking(True)
    while b"\r\n" not in answer:
        data = sock.recv(65536)
        if not data:
            break
        answer += data
    sock.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None
    return status, sent


def rss_with_children(process: psutil.Process) -> int:
    """The server's RSS and its worker processes' (large JSON bodies are parsed in those)."""
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += child.memory_info().rss
    return total


def run_scenario(name: str, port: int, process: psutil.Process, head: str, body: bytes | None, chunked: int) -> Outcome:
    baseline = rss_with_children(process)
    peak = baseline
    delays: list[float] = []
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_with_children(process))
            time.sleep(0.005)

    def poll_health() -> None:
        while not done.is_set():
            started = time.perf_counter()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=60) as response:
                response.read()
            delays.append(time.perf_counter() - started)
            time.sleep(0.005)

    threads = [threading.Thread(target=sample), threading.Thread(target=poll_health)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    status, sent = send(port, head, body, chunked)
    answer_s = time.perf_counter() - started
    time.sleep(0.2)  # work the server still does after answering shows in the samples too
    done.set()
    for thread in threads:
        thread.join()
    return Outcome(name, status, sent / MiB, answer_s, (peak - baseline) / MiB, 1000 * max(delays or [0.0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.tiny_models import build_tiny_qwen

    workdir = Path(tempfile.mkdtemp(prefix="bench-bodies-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "API_PORT": str(port),
        "QWEN_MODEL_ID": str(build_tiny_qwen(workdir / "tiny-qwen")),
        "ENABLED_MODELS": "qwen",
        "MODEL_CACHE_DIR": str(workdir / "cache"),
        "OPENAI_API_KEYS": f"bench:{KEY}",
        "LOG_LEVEL": "warning",
        "LAZY_LOAD_MODELS": "false",  # preloaded: /health/ready answers 200 once the model is in memory
    }
    limit = int(float(env.get("MAX_JSON_BODY_MB", "4")) * MiB)
    big = chat_body(1_700_000)
    largest = largest_chat_body(limit)
    many = {"model": "qwen", "max_tokens": 1, "messages": [{"role": "user", "content": "x" * 1024}] * 2048}
    many_bytes = json.dumps(many).encode()
    token_lists = {"model": "qwen", "max_tokens": 1, "prompt": [[1]] * ((limit - 200) // 4)}
    lists = json.dumps(token_lists, separators=(",", ":")).encode()
    json_head = "POST /v1/chat/completions HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
    upload_head = (
        "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: bench\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\nTransfer-Encoding: chunked\r\n"
    )
    auth = f"Authorization: Bearer {KEY}\r\n"
    scenarios = [
        ("50 MiB JSON, no key", json_head + f"Content-Length: {len(big)}\r\n", big, 0),
        ("24 MiB chunked upload, no key", upload_head, None, 24 * MiB),
        (
            f"{len(big) / MiB:.0f} MiB chat, 1.7 M messages",
            json_head + auth + f"Content-Length: {len(big)}\r\n",
            big,
            0,
        ),
        (
            f"largest allowed chat body ({len(largest) / MiB:.2f} MiB)",
            json_head + auth + f"Content-Length: {len(largest)}\r\n",
            largest,
            0,
        ),
        (
            f"2,048 messages of 1 KiB ({len(many_bytes) / MiB:.2f} MiB)",
            json_head + auth + f"Content-Length: {len(many_bytes)}\r\n",
            many_bytes,
            0,
        ),
        (
            f"token lists ({len(lists) / MiB:.2f} MiB)",
            json_head.replace("/v1/chat/completions", "/v1/completions") + auth + f"Content-Length: {len(lists)}\r\n",
            lists,
            0,
        ),
    ]
    outcomes = []
    with serve_subprocess(env, workdir) as server:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the gateway did not start") from None
                time.sleep(0.2)
        process = psutil.Process(server.pid)
        for name, head, body, chunked in scenarios:
            outcomes.append(run_scenario(name, port, process, head, body, chunked))
    print(f"{date.today()} {cpu_model()}, MAX_JSON_BODY_MB={limit / MiB:g}")
    print("| scenario | status | body sent (MiB) | answered after | server RSS growth | worst /health |")
    print("|---|---|---|---|---|---|")
    for o in outcomes:
        print(
            f"| {o.scenario} | {o.status} | {o.body_sent_mib:.1f} | {o.answer_s * 1000:.0f} ms | "
            f"{o.rss_growth_mib:.0f} MiB | {o.worst_health_ms:.0f} ms |"
        )
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=2))


if __name__ == "__main__":
    main()
