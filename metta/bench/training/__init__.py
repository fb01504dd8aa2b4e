"""Measuring training (each starts Sample Factory runs of metta.sf_integration.train as processes): learning_bench
(does a policy learn: trained against random on fixed episodes), throughput (agent-steps per second),
train_profile (where a run's time goes) and soak (a long run's memory); scalars reads a run's TensorBoard
scalars back."""
