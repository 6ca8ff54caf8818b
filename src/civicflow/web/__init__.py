"""The HTTP API: a FastAPI router an application mounts under any prefix."""
