"""Measuring the env without training: simulator throughput against its baselines (sim,
``python -m metta.bench``), a long random-action soak (soak), one random rollout (rollout), the
side-by-side run against mettagrid (peers) and the scripted agents' cost per step beside the env's
(scripted). Training's own measurements are in metta.bench.training (learning_bench, throughput,
train_profile, soak, and a run's TensorBoard scalars read back)."""
