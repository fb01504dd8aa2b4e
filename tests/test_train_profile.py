"""The training profile's reading of py-spy's raw stacks and of Sample Factory's log, on hand-written input."""
import pytest

from metta.bench.training.train_profile import OTHER, categorise, fps_from_log, parse_raw, split

RUN = 'process 10:"python -m metta.sf_integration.train"'
LEARNER = f'{RUN};process 11:"python -c spawn_main";thread (11): MainThread;<module> (<string>:1)'
ROLLOUT = f'{RUN};process 12:"python -c spawn_main";thread (12): MainThread;<module> (<string>:1)'
RAW = [
    f"{LEARNER};LearnerWorker.on_new_training_batch (learner_worker.py:150);Learner.train (learner.py:1036);"
    f"Learner._train (learner.py:800);Tensor.backward (_tensor.py:10) 30",
    f"{LEARNER};LearnerWorker.on_new_training_batch (learner_worker.py:150);Learner.train (learner.py:1036);"
    f"Learner._prepare_batch (learner.py:955);Learner._prepare_and_normalize_obs (learner.py:929) 10",
    f"{LEARNER};EventLoop._loop_iteration (signal_slot.py:383) 20",
    f"{ROLLOUT};RolloutWorker.advance_rollouts (rollout_worker.py:1);MettaSFEnv.step (env.py:1);"
    f"GriddlyEngine.step (engine.py:1) 6",
    f"{ROLLOUT};RolloutWorker.advance_rollouts (rollout_worker.py:1);TensorDict.__setitem__ (tensor_dict.py:1) 2",
    "not a stack line",
]


def test_raw_stacks_are_grouped_by_the_innermost_process():
    stacks = parse_raw(RAW)
    assert set(stacks) == {11, 12}
    assert sum(stacks[11].values()) == 60 and sum(stacks[12].values()) == 8
    assert ("<module>", "EventLoop._loop_iteration") in stacks[11]  # process and thread frames dropped


def test_cpu_seconds_are_split_in_proportion_to_the_samples():
    roles = split(parse_raw(RAW), {11: 12.0, 12: 4.0})
    learner, rollout = roles["learner"], roles["rollout"]
    assert learner["cpu_seconds"] == 12.0 and learner["processes"] == 1
    assert learner["categories"] == pytest.approx({"backward": 6.0, "observation normalisation": 2.0, OTHER: 4.0})
    assert rollout["categories"] == pytest.approx({"Griddly step": 3.0, "Sample Factory buffers": 1.0})


def test_the_first_matching_category_wins():
    # a backward pass inside batch preparation would count as backward: rules are ordered
    assert categorise("learner", ("Learner._prepare_batch", "Tensor.backward")) == "backward"
    assert categorise("rollout", ("RolloutWorker.advance_rollouts",)) == "Sample Factory buffers"
    assert categorise("runner", ("Runner.run",)) == OTHER


def test_the_last_60_second_figure_is_read_from_the_log():
    log = ("[..] Fps is (10 sec: 100.0, 60 sec: 200.5, 300 sec: 150.0). Total num frames: 1\n"
           "[..] Fps is (10 sec: 110.0, 60 sec: 210.5, 300 sec: 160.0). Total num frames: 2\n")
    assert fps_from_log(log) == 210.5
    assert fps_from_log("no figures yet") is None


def test_throughput_variants_parse():
    import argparse

    from metta.bench.training.throughput import parse_variant

    assert parse_variant("base=") == ("base", "")
    assert parse_variant("two=--a=1 --b=2") == ("two", "--a=1 --b=2")
    with pytest.raises(argparse.ArgumentTypeError):
        parse_variant("no-equals-sign")
