"""Label Studio's WSGI application as ``annotate serve --workers N`` serves it: with an HTTP
``Date`` header on every response.

Django leaves the ``Date`` header to the web server (RFC 9110, section 6.6.1: an origin server
with a clock sends one). Django's ``runserver``, which serves one Label Studio process, adds it;
uWSGI does not. ``annotate pull`` and ``annotate status`` read the server's clock from that
header for their watermarks (``annotate.studio.client.Studio.server_time``), so without it a
pull against several workers failed at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from email.utils import formatdate
from typing import Any

from label_studio.core.wsgi import application as label_studio_application

__all__ = ["application"]


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Label Studio's application, adding ``Date`` to responses that lack it."""

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if not any(name.lower() == "date" for name, _ in headers):
            headers = [*headers, ("Date", formatdate(usegmt=True))]
        return start_response(status, headers, exc_info)

    result: Iterable[bytes] = label_studio_application(environ, start)
    return result
