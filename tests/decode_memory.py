"""Peak memory of `decode_audio`, measured in a process of its own (run by tests/test_audio_io.py, and by hand):

    PYTHONPATH=backend:. python -m tests.decode_memory WARM_UP_FILE MAX_SECONDS FILE [FILE ...]

After one warm-up decode (a file that goes through FFmpeg, which loads its libraries), each FILE is decoded
with `max_seconds=MAX_SECONDS`. Before each, the kernel's peak-RSS mark is reset (`5` written to
`/proc/self/clear_refs`); after it, `VmHWM` is the highest RSS reached during that decode. One JSON line
per file: `file`, `outcome` (`decoded N s`, or the status and message of the refusal), `seconds` (wall),
`decoded_s` (seconds of audio FFmpeg was asked to decode), `rss_before` and `peak` (bytes).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def main() -> None:
    from torchcodec.decoders import AudioDecoder

    from app.errors import GatewayError
    from app.infra.audio_io import decode_audio

    warm_up, max_seconds, *files = sys.argv[1:]
    decoded_s = 0.0
    real_range = AudioDecoder.get_samples_played_in_range

    def counted(self: AudioDecoder, start_seconds: float = 0.0, stop_seconds: float | None = None) -> object:
        nonlocal decoded_s
        samples = real_range(self, start_seconds, stop_seconds)
        decoded_s += samples.data.shape[-1] / samples.sample_rate
        return samples

    AudioDecoder.get_samples_played_in_range = counted  # type: ignore[method-assign]
    decode_audio(Path(warm_up))
    for name in files:
        decoded_s = 0.0
        Path("/proc/self/clear_refs").write_text("5")
        before = _status_kib("VmRSS")
        started = time.perf_counter()
        try:
            audio = decode_audio(Path(name), max_seconds=float(max_seconds))
            outcome = f"decoded {audio.duration_s:g} s"
        except GatewayError as exc:
            outcome = f"{exc.status_code}: {exc.message}"
        seconds = time.perf_counter() - started
        peak = _status_kib("VmHWM")
        report = {"file": name, "outcome": outcome, "seconds": round(seconds, 4), "decoded_s": round(decoded_s, 3)}
        print(json.dumps({**report, "rss_before": before * 1024, "peak": peak * 1024}), flush=True)
        audio = None  # the next file starts from the same baseline


if __name__ == "__main__":
    main()
