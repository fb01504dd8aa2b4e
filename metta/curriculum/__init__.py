"""A curriculum over game variants: tasks as data (metta.curriculum.tasks, ``games/curricula/*.yaml``), samplers
that follow learning (metta.curriculum.samplers), and the env that draws a task at every reset
(metta.curriculum.env). Training takes one with ``--curriculum=NAME`` (metta.sf_integration.train)."""
