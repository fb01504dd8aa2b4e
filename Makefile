# Two commands on a fresh machine: `make train` and `make test`. Each sets up .venv first (idempotent).
VENV   ?= .venv
PY     := $(VENV)/bin/python
ENV    ?= metta-teams
# a short default budget on 2 CPU cores; rerunning resumes the same experiment
TRAIN_SECONDS ?= 480
VIDEO_STEPS   ?= 200
# the curriculum's budget (docs/curriculum.md): train-suite trains on games/curricula/$(CURRICULUM).yaml
CURRICULUM    ?= suite
SUITE_SECONDS ?= 1800

.PHONY: setup train train-suite test test-quick bench validate clean

setup:
	@bash devops/setup.sh

# Train $(ENV) with Sample Factory APPO into train_dir/$(ENV), then render its evaluation video
# (train_dir/$(ENV)/eval/$(ENV).mp4, a GIF and stats.json).
train: setup
	$(PY) -m metta.sf_integration.train --env=$(ENV) --train_for_seconds=$(TRAIN_SECONDS)
	$(PY) -m metta.evals.evaluate --env=$(ENV) --experiment=$(ENV) --max_steps=$(VIDEO_STEPS)

# Train $(ENV) on a curriculum of game variants into train_dir/$(ENV)-$(CURRICULUM), then run the eval suite
# against random actions (train_dir/$(ENV)-$(CURRICULUM)/evals/report.html)
train-suite: setup
	$(PY) -m metta.sf_integration.train --env=$(ENV) --experiment=$(ENV)-$(CURRICULUM) --curriculum=$(CURRICULUM) \
		--train_for_seconds=$(SUITE_SECONDS) --keep_checkpoints=40 --save_every_sec=120
	$(PY) -m metta.evals --experiment=$(ENV)-$(CURRICULUM) --baseline=random --episodes 20 --curve=5

# lint, then type-check metta/, then every test. Under CI (CI=true, as CI services set it when
# they run .ci/run) every test must run: METTA_REQUIRE_ALL=1 makes a test that would skip for a missing system
# component (strace, chromium, glslc, Slurm, a mount namespace) fail instead, naming it (tests/conftest.py).
# Elsewhere they skip, and one line at the end of the run names what was missing (METTA_REQUIRE_ALL=1 asks for all).
REQUIRE_ALL = $(if $(filter-out 0 false no,$(CI)),1,$(METTA_REQUIRE_ALL))
test: setup
	$(PY) -m ruff check metta tests
	$(PY) -m mypy metta
	METTA_REQUIRE_ALL=$(REQUIRE_ALL) $(PY) -m pytest -q

# The quick tier, for iteration: the same lint and type check, then every test not marked slow (training, a Slurm
# cluster, the browser, or more than about 5 s: pyproject.toml's markers). `make test` still runs everything.
test-quick: setup
	$(PY) -m ruff check metta tests
	$(PY) -m mypy metta
	$(PY) -m pytest -q -m "not slow"

bench: setup
	$(PY) -m metta.bench

validate: setup
	$(PY) -m metta.validate games/metta.yaml

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
