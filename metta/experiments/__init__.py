"""Experiments over many runs: sweeps of training settings through Sample Factory's launcher, and their reports.

``python -m metta.experiments.sweep`` (metta.experiments.sweep) trains, evaluates and reports;
metta.experiments.sweep_report turns the runs' evaluations into ``results.csv``, ``results.json`` and
``report.html``. This package drives metta.sf_integration; nothing below it imports it.
"""
