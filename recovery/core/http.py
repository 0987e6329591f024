"""Request helpers shared by permissions and error handlers."""

from flask import request


def wants_json() -> bool:
    """True when the client should get JSON rather than an HTML page."""
    if request.path.startswith("/api/"):
        return True
    if request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and (
        request.accept_mimetypes["application/json"] > request.accept_mimetypes["text/html"]
    )


def client_address() -> str | None:
    """The address the request came from (after ProxyFix when it is configured)."""
    return request.remote_addr
