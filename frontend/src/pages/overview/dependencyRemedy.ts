/**
 * What to do about a problem of the dependency report (`dependencies.problems` of /api/admin/status).
 * The report says what is wrong; this says the usual fix (doc/operations.md, troubleshooting).
 */
const REMEDIES: [RegExp, string][] = [
  [/ffmpeg/i, 'Install FFmpeg (Debian/Ubuntu: apt-get install ffmpeg), then restart the gateway.'],
  [
    /torch is not installed/i,
    "Install the models' extras: scripts/setup.sh cpu,asr,diarization (gpu,asr,diarization on a GPU machine), then restart.",
  ],
  [
    /CPU-only build|is a CPU build/i,
    'On a GPU machine, install the GPU build: scripts/setup.sh gpu,asr,diarization, then restart the gateway.',
  ],
  [
    /no GPU\/driver is usable/i,
    'Check the NVIDIA driver with nvidia-smi and CUDA_VISIBLE_DEVICES, then restart.',
  ],
  [
    /vllm is not installed/i,
    'Install the gpu extra for vLLM (scripts/setup.sh gpu,asr,diarization); until then the LLM runs on transformers.',
  ],
];

export function dependencyRemedy(problem: string): string | null {
  return REMEDIES.find(([pattern]) => pattern.test(problem))?.[1] ?? null;
}
