"""Secrets stay in: the Basic auth password and a password in the CSMS URL never reach a page.

Two ways a secret would leave a fleet run, and what this module does about each:

* **The web UI's form.** Locust renders every option into the page: ``GET /`` embeds
  ``extra_options`` (``WebUI.update_template_args`` -> ``argument_parser.ui_extra_args_dict()``,
  which parses the command line and the ``LOCUST_*`` variables again), each with its
  ``default_value``. A secret option's field is masked in the browser, its value is still in the
  page source. :func:`install_web_ui` wraps ``update_template_args`` so a secret's default is
  :data:`PLACEHOLDER` when one is set (the page shows that a password is set, never which), and
  drops the placeholder from a ``/swarm`` form, so a run started from the page keeps the real
  password in ``parsed_options``. A password typed into the form is taken as the new one.

* **The host.** Locust shows ``environment.host`` in the web UI, in ``/swarm``'s JSON answer, in
  ``/stats/report`` and in the ``--html`` report (and the download's file name). A CSMS URL with
  ``user:password@`` in it is therefore replaced by its redacted form (``user:***@``) in
  ``environment.host`` (:func:`hide_url_password`, on ``init`` and whenever a test starts); the
  real URL is kept in ``parsed_options`` under :data:`URL_KEY`, an attribute no page shows and that
  the master sends to its workers with the other options, and :func:`real_host` gives it back to
  whoever connects.

As a last line, every text answer of the web UI is searched for the secrets known at that moment
(as they are, JSON-, HTML- and URL-escaped) and any found is replaced with ``***``.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from locust.env import Environment
from locust.web import WebUI

from ocpp_users.fleet.options import GROUPS
from ocpp_users.fleet.optiontable import Option
from ocpp_users.ocppj.redact import MASK, redact_url

PLACEHOLDER = "********"
"""What a secret option's field holds in the web UI when a value is set."""
URL_KEY = "_vocpp_csms_url"
"""Where the CSMS URL with its password is kept (an attribute of ``parsed_options``)."""

FLEET_SECRETS: tuple[Option, ...] = tuple(o for g in GROUPS for o in g.options if o.secret)
"""The fleet's options whose values are secrets (``--basic-auth-password``)."""
_INSTALLED = "_vocpp_secret_options"


def url_password(url: str) -> str | None:
    """The password of ``url``'s ``user:password@`` part, or None."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def hide_url_password(environment: Environment) -> None:
    """Move a password out of ``environment.host``: the host becomes the redacted URL, the real
    one is kept in ``parsed_options`` (:data:`URL_KEY`). Nothing to do without a password."""
    host = environment.host or ""
    options = environment.parsed_options
    if not url_password(host) or options is None:
        return  # (no parsed options: a library run, no web UI or report of Locust's to keep it from)
    setattr(options, URL_KEY, host)
    environment.host = redact_url(host)


def real_host(environment: Environment, host: str) -> str:
    """``host`` with its password back when it is the redacted form of the kept URL."""
    kept = getattr(environment.parsed_options, URL_KEY, None) if environment.parsed_options is not None else None
    if isinstance(kept, str) and kept and host == redact_url(kept):
        return kept
    return host


def secrets_of(environment: Environment, secret_options: Iterable[Option] = FLEET_SECRETS) -> list[str]:
    """Every secret value known now: the secret options (given or from their environment
    variables) and the kept URL's password."""
    options = environment.parsed_options
    values: list[str] = []
    for option in secret_options:
        old = os.environ.get(option.old_env) if option.old_env else None
        for value in (getattr(options, option.dest, None), os.environ.get(option.env_var), old):
            if isinstance(value, str) and value and value != PLACEHOLDER:
                values.append(value)
    kept = getattr(options, URL_KEY, None)
    password = url_password(kept) if isinstance(kept, str) else None
    if password:
        values.append(password)
    return values


def _forms(secret: str) -> Iterable[str]:
    """The ways a secret can be written into an HTML or JSON answer."""
    yield secret
    yield json.dumps(secret)[1:-1]
    yield html.escape(secret)
    yield html.escape(secret, quote=False)
    yield quote(secret, safe="")
    yield json.dumps(html.escape(secret))[1:-1]


SCRUB_MIN = 8
"""Shorter secrets are not searched for: "true" or "ocpp" would match ordinary text and break the
page's JSON. The masking above keeps them out all the same; the scrub is the last line only."""


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of every secret (of :data:`SCRUB_MIN` characters or more) replaced
    by ``***``."""
    for secret in secrets:
        if len(secret) < SCRUB_MIN:
            continue
        for form in sorted(set(_forms(secret)), key=len, reverse=True):
            if form in text:
                text = text.replace(form, MASK)
    return text


def install_web_ui(web_ui: WebUI, environment: Environment, secret_options: Iterable[Option] = FLEET_SECRETS) -> None:
    """Mask secret options in the page, keep the real password when the form comes back with the
    placeholder, hide a URL password typed into the form, and scrub every text answer.

    Installed once per web UI; a second call (the compliance user loaded beside the fleet) adds
    its secret options to those guarded."""
    guarded: list[Option] | None = getattr(web_ui, _INSTALLED, None)
    if guarded is not None:
        guarded.extend(o for o in secret_options if o not in guarded)
        return
    guarded = list(secret_options)
    setattr(web_ui, _INSTALLED, guarded)
    original = web_ui.update_template_args

    def update_template_args() -> None:
        original()
        for entry in (web_ui.template_args.get("extra_options") or {}).values():
            if isinstance(entry, dict) and entry.get("is_secret") and entry.get("default_value"):
                entry["default_value"] = PLACEHOLDER

    web_ui.update_template_args = update_template_args  # type: ignore[method-assign]
    app = web_ui.app
    if app is None:
        return
    from flask import request
    from werkzeug.datastructures import ImmutableMultiDict

    @app.before_request
    def keep_secrets_out_of_the_form() -> None:
        if request.method != "POST" or not request.path.endswith("/swarm"):
            return
        items = list(request.form.items(multi=True))
        kept: list[tuple[str, str]] = []
        secret_dests = {o.dest for o in guarded}
        for key, value in items:
            if key in secret_dests and value == PLACEHOLDER:
                continue  # unchanged: the real one stays in parsed_options
            if key == "host" and url_password(value):
                if environment.parsed_options is not None:
                    setattr(environment.parsed_options, URL_KEY, value)
                value = redact_url(value)
            kept.append((key, value))
        if kept != items:
            request._get_current_object().__dict__["form"] = ImmutableMultiDict(kept)  # type: ignore[attr-defined]

    @app.after_request
    def scrub_secrets(response: Any) -> Any:
        if response.direct_passthrough or not (response.mimetype or "").startswith(("text/", "application/json")):
            return response
        secrets = secrets_of(environment, guarded)
        if not secrets:
            return response
        body = response.get_data(as_text=True)
        clean = scrub(body, secrets)
        if clean != body:
            response.set_data(clean)
        disposition = response.headers.get("Content-Disposition")
        if disposition:
            response.headers["Content-Disposition"] = scrub(disposition, secrets)
        return response
