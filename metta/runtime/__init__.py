"""Process and file plumbing every command shares: a child dies with its parent (lifetime), one
writer per run directory (run_lock), files written whole or not at all (files), NAME=VALUE lists
(name_values). Nothing here knows of Griddly, the env or Sample Factory."""
