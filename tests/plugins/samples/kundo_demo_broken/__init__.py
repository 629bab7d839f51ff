"""Demo Broken: fails on import, as a plugin with a missing dependency would."""

raise ImportError("demo_broken needs a library that is not installed")
