"""backloop: local code review with a live feedback loop to a coding agent."""
