"""Measuring the env without training: simulator throughput against its baselines (sim,
``python -m metta.bench``), a long random-action soak (soak), one random rollout (rollout), the
side-by-side run against mettagrid (peers) and the scripted agents' cost per step beside the env's
(scripted). Training's own measurements live beside training (metta.sf_integration: learning_bench,
throughput, train_profile, soak)."""
