"""The Sample Factory adapter: env registration, model, flags, train, the trained policy, checkpoints, process
supervision and, in patches.py, every reach into Sample Factory's internals.

Importing the package, or any of its modules, changes nothing in the process: the patches apply when training
starts and in each of its workers (metta.sf_integration.supervisor.start_process), and the numpy scalars Sample
Factory stores in checkpoints are allowed when a checkpoint is read (metta.sf_integration.checkpoints)."""
