"""``backloop review``: the agent's side of a review from a shell, over the running server's HTTP API, for agents
without MCP (docs/cli.md)."""
