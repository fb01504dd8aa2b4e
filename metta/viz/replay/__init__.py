"""Replays: every step of an episode in a file (format), recorded while it is played (recorder), and a
self-contained browser page to watch it (viewer; ``python -m metta.viz.replay FILE``). See docs/replay.md."""
from metta.viz.replay.format import FORMAT, VERSION, Replay, read_replay, write_replay
from metta.viz.replay.recorder import Recorder

__all__ = ["FORMAT", "VERSION", "Replay", "Recorder", "read_replay", "write_replay"]
