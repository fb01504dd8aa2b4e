"""metta.evals.agreement: the policy's actions counted against the scripted oracle's in the same states."""
from metta.evals.agreement import Compared, main
from metta.evals.play import play_episode
from metta.evals.policies import RandomPolicy
from metta.evals.scenarios import SCENARIOS
from metta.scripted.oracle import ScriptedOracle


def compared(policy_of, scenario="resource_chain"):
    env = SCENARIOS[scenario].make_env(0)
    n = env.action_space(env.possible_agents[0]).n
    c = Compared(policy_of(env), ScriptedOracle(env), env.possible_agents[0], n, deterministic=True)
    outcome = play_episode(env, c, 0)
    env.close()
    return c, outcome


def test_the_oracle_agrees_with_itself_on_every_step_and_random_play_rarely():
    """Two oracles with the same episode seed plan the same way: agreement 1 on every step the episode had, and
    every action counted once on each side. Random actions over 22 agree by chance, far less often."""
    same, outcome = compared(ScriptedOracle)
    assert same.steps == outcome.steps > 0 and same.agreed == same.steps
    assert (same.chosen == same.taught).all() and same.chosen.sum() == outcome.steps
    assert outcome.metrics[0]["hearts"] >= 1      # the oracle solves the chain while being compared
    rand, _ = compared(lambda env: RandomPolicy(env.action_space(env.possible_agents[0]).n, seed=0))
    assert rand.agreed / rand.steps < 0.3 and rand.chosen.sum() == rand.steps


def test_an_unknown_experiment_is_a_clear_error(tmp_path, capsys):
    assert main(["nothing_here", "--train_dir", str(tmp_path)]) == 2
    assert "nothing_here" in capsys.readouterr().err
