# Two commands on a fresh machine: `make train` and `make test`. Each sets up .venv first (idempotent).
VENV   ?= .venv
PY     := $(VENV)/bin/python
ENV    ?= metta-teams
# a short default budget on 2 CPU cores; rerunning resumes the same experiment
TRAIN_SECONDS ?= 480
VIDEO_STEPS   ?= 200

.PHONY: setup train test bench validate clean

setup:
	@bash devops/setup.sh

# Train $(ENV) with Sample Factory APPO into train_dir/$(ENV), then render its evaluation video
# (train_dir/$(ENV)/eval/$(ENV).mp4, a GIF and stats.json).
train: setup
	$(PY) -m metta.sf_integration.train --env=$(ENV) --train_for_seconds=$(TRAIN_SECONDS)
	$(PY) -m metta.sf_integration.evaluate --env=$(ENV) --experiment=$(ENV) --max_steps=$(VIDEO_STEPS)

# lint, then type-check the env and its config, then every test
test: setup
	$(PY) -m ruff check metta tests
	$(PY) -m mypy metta/env metta/config.py
	$(PY) -m pytest -q

bench: setup
	$(PY) -m metta.bench

validate: setup
	$(PY) -m metta.validate games/metta.yaml

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
