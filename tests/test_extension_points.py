"""Where a newcomer adds things, shown by adding them: a kinship structure is one new file in
metta/society/kinship/, picked up by the env's config and the training flags with nothing else edited."""
import json
import os
import shutil
import subprocess
import sys

from conftest import ROOT

RING = '''"""``ring``: agents on a ring, kin to their ``reach`` nearest neighbours on each side."""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from metta.society.kinship.base import Kinship


class Ring(Kinship):
    structure: Literal["ring"] = Field("ring", description="agents on a ring, kin to their nearest neighbours")
    reach: int = Field(1, description="neighbours on each side who are kin")

    def sample(self, num_agents: int, rng: np.random.Generator) -> np.ndarray:
        i = np.arange(num_agents)
        d = np.abs(i[:, None] - i[None, :])
        return (np.minimum(d, num_agents - d) <= self.reach).astype(np.float64)
'''

PROBE = '''
import json, sys
from metta import make_env
from metta.sf_integration.config import add_metta_args
import argparse
env = make_env("metta-solo", seed=0, width=12, height=12, num_agents=6, kinship={"structure": "ring", "reach": 1})
env.reset(seed=0)
parser = argparse.ArgumentParser()
add_metta_args(parser)
flags = [a for action in parser._actions for a in action.option_strings]
print(json.dumps({"kinship": env.kinship.tolist(), "config": env.config.kinship.model_dump(),
                  "flag": "--kinship.reach" in flags}))
'''


def test_a_kinship_structure_is_one_new_file(tmp_path):
    shutil.copytree(os.path.join(ROOT, "metta"), tmp_path / "metta", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(os.path.join(ROOT, "games"), tmp_path / "games")
    (tmp_path / "metta" / "society" / "kinship" / "ring.py").write_text(RING)
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    ring = [[1.0 if min(abs(i - j), 6 - abs(i - j)) <= 1 else 0.0 for j in range(6)] for i in range(6)]
    assert got["kinship"] == ring  # the file's own sample, through the env
    assert got["config"]["structure"] == "ring" and got["config"]["reach"] == 1
    assert got["flag"]  # its field became a training flag
