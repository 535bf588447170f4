"""Review: Argilla datasets from task specs, push and pull, and the local Argilla service."""
