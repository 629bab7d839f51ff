"""The audit log: who did what, in which workspace, from where."""
