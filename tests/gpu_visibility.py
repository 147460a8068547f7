"""GPUs hidden from every test run that may select a test not marked `gpu` (pytest plugin, `-p` in pyproject.toml).

The suite must pass on a GPU server with the `gpu` extra installed, the very place it runs in production, so the
tests not marked `gpu` see no GPU there either: they assert what the gateway does on a CPU machine. One process
either sees GPUs or does not: CUDA and NVML read `CUDA_VISIBLE_DEVICES` once (torch when it first initialises CUDA,
`app.infra.gpu_monitor` when it is imported), so the choice is made per pytest process, here, before the test
modules and conftest.py import anything:

- a run whose `-m` expression selects only tests marked `gpu` (`pytest -m gpu`, `make gpu-test`) keeps the
  machine's `CUDA_VISIBLE_DEVICES` as it is;
- any other run (plain `pytest`, `pytest tests/test_admin.py`, `-m "not gpu"`) sets `CUDA_VISIBLE_DEVICES=""`:
  torch then finds no device and the gateway's NVML monitor no visible GPU (an empty list hides every GPU). Its
  `gpu` tests are skipped with a reason that names the command that runs them.

`make test` therefore runs two processes: `pytest` (every test, GPUs hidden) and `pytest -m gpu` (the GPU tests,
GPUs seen; all skipped on a machine without one). The alternative, deciding per test inside one process, cannot
work: once torch or NVML has read the variable, changing it changes nothing.
"""

from __future__ import annotations

import itertools
import os
import re

import pytest
from _pytest.mark.expression import Expression  # how pytest itself evaluates `-m`

GPUS_HIDDEN = pytest.StashKey[bool]()
"""In `config.stash`: whether this process hid the GPUs (then its `gpu` tests are skipped)."""

HIDDEN_REASON = "needs a CUDA GPU, seen only by `pytest -m gpu` (make gpu-test): this run hides GPUs from its tests"

_KEYWORDS = {"and", "or", "not", "True", "False", "None"}


def selects_only_gpu_tests(markexpr: str) -> bool:
    """Whether the `-m` expression `markexpr` rejects every test without the `gpu` mark, whatever its other marks:
    it is evaluated for each set of the other names it mentions (marks it does not mention cannot matter)."""
    if not markexpr.strip():
        return False
    expression = Expression.compile(markexpr)
    others = sorted(set(re.findall(r"[A-Za-z_][\w.]*", markexpr)) - _KEYWORDS - {"gpu"})
    if len(others) > 12:  # an unusual expression: hide the GPUs rather than try 2**13 mark sets
        return False
    for count in range(len(others) + 1):
        for marks in itertools.combinations(others, count):
            if expression.evaluate(lambda name, /, marks=marks, **kwargs: name in marks):
                return False
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Runs before conftest.py (and so before `app` or torch) is imported."""
    hide = not selects_only_gpu_tests(early_config.known_args_namespace.markexpr or "")
    early_config.stash[GPUS_HIDDEN] = hide
    if hide:
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
