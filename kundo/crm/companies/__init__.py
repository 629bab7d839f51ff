"""Companies and which contacts work there."""
