"""The insight engine: episodes, behaviours, past versus present, guided practices,
follow-up questions, trust experiments and progress, all grounded in the person's own
labelled entries."""
