# The two commands of the README. Both set up what they need themselves and can be run again at will.
.PHONY: serve test lint frontend-test e2e screenshots gpu-test bench-cpu

# Where scripts/frontend.sh puts Node.js when the system's is missing or too old.
export PATH := $(CURDIR)/.node/bin:$(PATH)

serve:  ## run the gateway on 127.0.0.1:8000 with CPU defaults, the dashboard at /
	scripts/setup.sh cpu,asr,diarization
	scripts/frontend.sh build
	.venv/bin/inference-gateway serve

test:  ## lint, then every test: Python (GPU-marked tests are skipped without CUDA), dashboard, browser
	scripts/frontend.sh build browser
	scripts/setup.sh gpu,asr,diarization,test
	$(MAKE) lint frontend-test
	# Two processes, as one process either sees the GPUs or not (tests/gpu_visibility.py): every test with the
	# GPUs hidden (the gpu-marked ones skipped), then the gpu-marked ones with the GPUs seen (skipped without).
	.venv/bin/python -m pytest
	.venv/bin/python -m pytest -m gpu
	$(MAKE) e2e

lint:  ## ruff; the layers and the types of backend/app; every import declared; hadolint on the Dockerfile and ShellCheck on the scripts
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports
	.venv/bin/mypy
	.venv/bin/deptry .
	.venv/bin/hadolint Dockerfile
	shellcheck -x build_docker.sh run_docker.sh scripts/*.sh

frontend-test:  ## the dashboard's lint, format, types, generated client, component tests
	cd frontend && npm run lint && npm run format:check && npm run typecheck && npm run check:api && npm test

e2e:  ## the dashboard in Chromium against a live gateway with the tiny models
	cd frontend && npm run e2e

screenshots:  ## regenerate doc/screenshots and the list in doc/frontend.md
	scripts/frontend.sh build browser
	scripts/setup.sh gpu,asr,diarization,test
	cd frontend && npm run screenshots

gpu-test:  ## only the GPU tests (on a machine with CUDA and vLLM)
	scripts/setup.sh gpu,asr,diarization,test
	.venv/bin/python -m pytest -m gpu

bench-cpu:  ## the gateway's CPU cost per streamed token (instant fake engine); a long prompt among streams
	scripts/setup.sh cpu,asr,diarization,test
	.venv/bin/python bench/gateway_overhead.py
	.venv/bin/python bench/prompt_stall.py
