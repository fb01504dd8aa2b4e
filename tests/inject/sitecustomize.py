"""A test double, on PYTHONPATH only where a test asks for it: with ``METTA_TEST_STEP_FAILS_AT=N`` every
``MettaEnv`` of a Sample Factory worker raises at step N of an episode, as a bad override that only bites
mid-episode would. Nothing else changes."""
import os
import sys

_AT = os.environ.get("METTA_TEST_STEP_FAILS_AT")
if _AT and "--multiprocessing-fork" in sys.orig_argv:
    import metta.env as _env

    _step = _env.MettaEnv.step_arrays  # what Sample Factory's env steps (MettaEnv.step goes through it too)

    def _failing_step(self, flat, out=None):
        if self._steps + 1 >= int(_AT):
            raise ValueError(f"attack.cost=5 sends energy below zero at step {self._steps + 1}: energy must be >= 0")
        return _step(self, flat, out)

    _env.MettaEnv.step_arrays = _failing_step
