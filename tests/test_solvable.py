"""``python -m metta.curriculum.solvable``: the scripted agents' score on each task of a curriculum, against tasks
whose answer the game's rules give by hand."""
import json

import pytest

from metta.curriculum.solvable import main, task_rows

CURRICULUM = """tasks:
  rooms:            # an altar within reach of every agent and 150 energy: every agent earns a heart
    map: {arenas: 24, wall_density: 0.0}
    objects: {altar: 24, generator: 0, charger: 0}
    max_steps: 40
  broke:            # 20 energy and nothing to earn more from: the altar's 100 is out of reach for everyone
    map: {arenas: 24, wall_density: 0.0}
    objects: {altar: 24, generator: 0, charger: 0}
    overrides: {agent_initial_energy: 20, agent_energy_regen: 0}
    max_steps: 40
"""


@pytest.mark.slow
def test_the_scripted_agents_score_what_the_rules_allow(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(CURRICULUM)
    rows = task_rows(str(path), episodes=1)
    assert [(r["task"], r["share"]) for r in rows] == [("rooms", 1.0), ("broke", 0.0)]
    assert rows[1]["mean"] == 0.0 and rows[0]["mean"] >= 1.0


@pytest.mark.slow
def test_the_command_prints_json_and_refuses_bad_input(tmp_path, capsys):
    path = tmp_path / "two.yaml"
    path.write_text(CURRICULUM)
    assert main([str(path), "--episodes", "1", "--json"]) == 0
    assert [r["task"] for r in json.loads(capsys.readouterr().out)] == ["rooms", "broke"]
    assert main([str(path), "--episodes", "0"]) == 2
    assert "--episodes" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in capsys.readouterr().err
