"""The website: server-rendered pages (Jinja2, autoescaped), Atom feeds and the sitemap,
served by the gateway next to the public API.

Pages reach the services through the same clients as `/api/v1` (`GatewayState`), so a
page shows exactly what the API would show the same visitor. The browser holds the
identity service's login token in an HttpOnly cookie; every form carries a CSRF token
bound to that session. `install_web(app)` adds it all to a gateway app.
"""

from gateway.web.install import install_web

__all__ = ["install_web"]
