"""The HTTP front-end: JSON API, OpenAI-compatible chat, MCP over streamable HTTP and the search page."""

from api.http.app import create_app

__all__ = ["create_app"]
