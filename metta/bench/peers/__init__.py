"""Peer benchmarks: the project's env timed side by side with another simulator (``devops/peer_bench.sh``).

``mettagrid_bench`` runs under a throwaway venv holding only mettagrid and numpy 2 and imports nothing from
metta; ``project_bench`` times the project's own env in the project venv; ``report`` pairs their rounds.
"""
