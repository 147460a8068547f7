# The two commands of the README. Both set up .venv themselves and can be run again at will.
.PHONY: serve test lint gpu-test bench-cpu

serve:  ## run the gateway on 127.0.0.1:8000 with CPU defaults
	scripts/setup.sh cpu,asr,diarization
	.venv/bin/inference-gateway serve

test:  ## lint, then every test (GPU-marked tests are skipped without CUDA)
	scripts/setup.sh gpu,asr,diarization,test
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/python -m pytest

gpu-test:  ## only the GPU tests (on a machine with CUDA and vLLM)
	scripts/setup.sh gpu,asr,diarization,test
	.venv/bin/python -m pytest -m gpu

bench-cpu:  ## the gateway's CPU cost per streamed token (instant fake engine); a long prompt among streams
	scripts/setup.sh cpu,asr,diarization,test
	.venv/bin/python bench/gateway_overhead.py
	.venv/bin/python bench/prompt_stall.py
