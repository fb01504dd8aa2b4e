# Two commands on a fresh machine: `make train` and `make test`. Each sets up .venv first (idempotent).
VENV   ?= .venv
PY     := $(VENV)/bin/python
ENV    ?= metta-teams
STEPS  ?= 300

.PHONY: setup train test bench validate clean

setup:
	@bash devops/setup.sh

# Until training lands: a short random-policy episode on metta-teams and its summary.
train: setup
	$(PY) -m metta.rollout --env $(ENV) --steps $(STEPS)

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) -m metta.bench

validate: setup
	$(PY) -m metta.validate games/metta.yaml

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
