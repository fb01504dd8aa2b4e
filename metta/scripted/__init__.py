"""Scripted agents: fixed plans read off the true game state, for the eval suite's oracle, the dilemma check's
populations and as a teacher.

- ``metta.scripted.fields``: the one shortest-path search, multi-source distance fields compiled with Numba;
- ``metta.scripted.agents``: ``ScriptedAgents`` (every agent of an env under a ``Conduct``: peaceful, thief,
  defender...) and ``ScriptedOracle``, the ``oracle`` policy;
- ``metta.bench.scripted``: their cost per step beside the env's own step.

Nothing is imported here: ``metta.scripted.agents`` builds on ``metta.evals.policies.Policy``, which imports
``metta.scripted.fields``.
"""
