"""Scripted agents: fixed plans read off the true game state, for the eval suite's oracle, the dilemma check's
populations and as a teacher.

- ``metta.scripted.fields``: the one shortest-path search, multi-source distance fields compiled with Numba;
- ``metta.scripted.agents``: ``ScriptedAgents``, every agent of an env under a ``Conduct`` (peaceful, thief,
  defender...);
- ``metta.scripted.oracle``: ``ScriptedOracle``, the eval suite's ``oracle`` policy;
- ``metta.scripted.teacher``: kickstarting, training pulled towards the scripted agents' actions (``--teacher``);
- ``metta.bench.scripted``: their cost per step beside the env's own step.

Nothing is imported here: ``metta.scripted.oracle`` builds on ``metta.evals.contract.Policy``, and
``metta.evals.policies`` imports ``metta.scripted.fields``.
"""
