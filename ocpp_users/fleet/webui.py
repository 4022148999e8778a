"""The fleet in Locust's web UI: the Charge points tab, its page and data, and the options form.

Locust's React app renders an extended tab as a plain table, so the tab's table holds the current
counts and a small script of ours (:data:`LOCUST_SCRIPT`, added to Locust's page) puts our own page,
``/charge-points/view``, in the tab above it (an iframe; plain HTML, JavaScript and SVG, nothing
from a CDN). That page polls ``/charge-points/data`` (the charts as SVG, drawn by
:mod:`ocpp_users.fleet.chart`, the storms and their figures, the CI gates as they stand, the load
fidelity) and ``/charge-points/table`` (the per-charge-point table, sorted and filtered on the
server, merged across workers) every two seconds; ``/charge-points/csv`` downloads every row.

The options form: Locust lists the extra options of its form in alphabetical order (its JSON keys
are sorted) in one "Custom parameters" box, labelled with the option's name and its whole help.
Here the keys keep their order, ours in the order of
:data:`~ocpp_users.fleet.optiontable.GROUP_ORDER` (connection, charge
points, sessions, load shape, CI gates, ...), each field shows the value the next run will use
(what the previous form said, not the command line again), and the script adds each group's
title, a readable label and the help under each field. Locust's page turns a field name into
snake case on its way back (``max_p95`` comes back as ``max_p9_5``): those are renamed before
Locust reads the form, and ``--shape`` from the form chooses the run's load shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from importlib import resources
from typing import TYPE_CHECKING, Any

from locust.env import Environment
from locust.web import WebUI

from ocpp_users.fleet.cptable import COLUMNS, TITLES, Query, csv_text, row_dict
from ocpp_users.fleet.optiontable import Option, OptionGroup, ordered_groups, registered_groups

if TYPE_CHECKING:
    from ocpp_users.fleet.ui import FleetMonitor

TAB_KEY = "charge-points"
TABLE_MARK = "Charge point state"
"""The first column's title of the tab's own table: the script finds the tab by it."""
LOCUST_SCRIPT = "locust.js"
PAGE = "charge_points.html"


def _static(name: str) -> str:
    return resources.files("ocpp_users.fleet").joinpath("web", name).read_text(encoding="utf-8")


# ---------------------------------------------------------------- the form


def ui_key(dest: str) -> str:
    """The name Locust's page sends a field back under: its camel case turned into snake case
    again (``max_p95`` -> ``maxP95`` -> ``max_p9_5``)."""
    camel = re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), dest)
    return re.sub(r"([a-z0-9])([A-Z0-9])", r"\1_\2", camel).lower()


def form_fields(extra_options: dict[str, Any], groups: Iterable[OptionGroup] | None = None) -> dict[str, Any]:
    """The extra options in group order (Locust's entries, each shown with its current value)."""
    ordered: dict[str, Any] = {}
    for group in ordered_groups(groups):
        for option in group.options:
            if option.dest in extra_options:
                ordered[option.dest] = extra_options[option.dest]
    for dest, entry in extra_options.items():
        ordered.setdefault(dest, entry)
    return ordered


def form_metadata(extra_options: dict[str, Any], groups: Iterable[OptionGroup] | None = None) -> dict[str, Any]:
    """What the script needs to title the groups and label the fields (field names as the page has
    them: camel case)."""
    out = []
    for group in ordered_groups(groups):
        fields = [_field(option) for option in group.options if option.dest in extra_options]
        if fields:
            title = group.title.split(" (")[0]
            out.append({"title": title, "description": group.description, "fields": fields})
    return {"groups": out, "title": "Fleet options", "tableMark": TABLE_MARK}


def _field(option: Option) -> dict[str, str]:
    camel = re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), option.dest)
    return {"name": camel, "label": option.ui_label, "help": f"{option.help} [{option.flag}, env {option.env_var}]"}


def _current(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return value


def install_form(web_ui: WebUI, environment: Environment, on_form: Callable[[], object] | None = None) -> None:
    """Order the form's extra options, show the current values, fix the names the page sends back,
    and let ``--shape`` in the form choose the load shape. ``on_form`` is called before Locust reads
    a form (the runtime keeps the options as they were, to log what the form changed)."""
    app = web_ui.app
    if app is None:
        return
    # The page's template arguments keep our order (Jinja's tojson sorts the keys by default).
    app.jinja_env.policies["json.dumps_kwargs"] = {"sort_keys": False}
    original = web_ui.update_template_args

    def update_template_args() -> None:
        original()
        extra = web_ui.template_args.get("extra_options") or {}
        options = environment.parsed_options
        ours = {option.dest for group in registered_groups() for option in group.options}
        for dest, entry in extra.items():
            if not isinstance(entry, dict) or dest not in ours:
                continue
            entry["help_text"] = ""  # the script labels the field and puts the help under it
            if not entry.get("is_secret") and options is not None and hasattr(options, dest):
                # the value the next run uses (what the form said last), not the command line again;
                # a secret's field shows a placeholder instead (ocpp_users.fleet.secrecy)
                entry["default_value"] = _current(getattr(options, dest))
        web_ui.template_args["extra_options"] = form_fields(extra)

    web_ui.update_template_args = update_template_args  # type: ignore[method-assign]
    from flask import request
    from werkzeug.datastructures import ImmutableMultiDict

    @app.before_request
    def read_the_form() -> None:
        if request.method != "POST" or not request.path.endswith("/swarm"):
            return
        if on_form is not None:
            on_form()
        options = environment.parsed_options
        known = set(vars(options)) if options is not None else set()
        renamed = {ui_key(dest): dest for dest in known if ui_key(dest) != dest}
        items = list(request.form.items(multi=True))
        fixed = [(renamed.get(key, key) if key not in known else key, value) for key, value in items]
        if fixed != items:
            request._get_current_object().__dict__["form"] = ImmutableMultiDict(fixed)  # type: ignore[attr-defined]
        shape = request.form.get("shape")
        if shape and options is not None and hasattr(options, "shape"):
            from ocpp_users.fleet import shapes  # late: the shapes import the gates, which import the runtime

            options.shape = shape
            shapes.select_shape(environment, environment.runner)


# ---------------------------------------------------------------- the tab and its page


def _merge(existing: Iterable[dict[str, Any]] | None, entry: dict[str, Any]) -> list[dict[str, Any]]:
    items = [item for item in existing or [] if item.get("key") != entry["key"]]
    items.append(entry)
    return items


def install(
    web_ui: WebUI, environment: Environment, monitor: FleetMonitor, on_form: Callable[[], object] | None = None
) -> None:
    """The Charge points tab, its page and endpoints, the options form and the report's sections."""
    from flask import Response, jsonify, request

    from ocpp_users.fleet import report, view

    args = web_ui.template_args
    args["extended_tabs"] = _merge(args.get("extended_tabs"), {"title": "Charge points", "key": TAB_KEY})
    args["extended_tables"] = _merge(
        args.get("extended_tables"),
        {"key": TAB_KEY, "structure": [{"key": "state", "title": TABLE_MARK}, {"key": "count", "title": "Now"}]},
    )
    args["extended_csv_files"] = _merge(
        args.get("extended_csv_files"),
        {"key": TAB_KEY, "href": "./charge-points/csv", "title": "Download charge points CSV"},
    )
    install_form(web_ui, environment, on_form)
    app = web_ui.app
    if app is None:
        return
    protect: Callable[[Callable[..., Any]], Callable[..., Any]] = getattr(
        web_ui, "auth_required_if_enabled", lambda function: function
    )

    def counts() -> Any:
        body: dict[str, Any] = {"counts": monitor.counts(), "summary": monitor.summary()}
        if monitor.fidelity is not None:
            body["fidelity"] = monitor.fidelity.view()
        return jsonify(body)

    def page() -> Any:
        return Response(_static(PAGE), mimetype="text/html")

    def data() -> Any:
        return jsonify(view.view_data(environment, monitor))

    def table() -> Any:
        query = Query.from_dict(dict(request.args))
        answer = monitor.rows.query(query)
        return jsonify(
            {
                "columns": [{"key": key, "title": title} for key, title in zip(COLUMNS, TITLES, strict=True)],
                "rows": [row_dict(row) for row in answer.rows],
                "total": answer.total,
                "matched": answer.matched,
                "states": answer.states,
                "workers": answer.workers,
                "answered": answer.answered,
                "query": query.to_dict(),
                "final": monitor.rows.final is not None,
            }
        )

    def download() -> Any:
        response = Response(csv_text(monitor.rows.all_rows()), mimetype="text/csv")
        response.headers["Content-Disposition"] = "attachment; filename=charge_points.csv"
        return response

    def script() -> Any:
        extra = web_ui.template_args.get("extra_options") or {}
        metadata = json.dumps(form_metadata(extra))
        body = f"window.vocppFleet = {metadata};\n" + _static(LOCUST_SCRIPT)
        return Response(body, mimetype="text/javascript")

    app.add_url_rule("/charge-points", "vocpp_charge_points", protect(counts))
    app.add_url_rule("/charge-points/view", "vocpp_charge_points_view", protect(page))
    app.add_url_rule("/charge-points/data", "vocpp_charge_points_data", protect(data))
    app.add_url_rule("/charge-points/table", "vocpp_charge_points_table", protect(table))
    app.add_url_rule("/charge-points/csv", "vocpp_charge_points_csv", protect(download))
    app.add_url_rule(f"/charge-points/{LOCUST_SCRIPT}", "vocpp_charge_points_script", protect(script))

    @app.after_request
    def extend(response: Any) -> Any:
        if response.status_code != 200 or response.direct_passthrough:
            return response
        path = request.path
        if path.endswith("/stats/requests"):
            body = response.get_json(silent=True)
            if isinstance(body, dict):
                extended = [e for e in body.get("extended_stats") or [] if e.get("key") != TAB_KEY]
                extended.append({"key": TAB_KEY, "data": monitor.summary_rows()})
                body["extended_stats"] = extended
                response.set_data(json.dumps(body))
        elif path.endswith("/stats/report"):
            text = response.get_data(as_text=True)
            response.set_data(report.add_section(text, report.section_html(environment, monitor)))
        elif (path == "/" or path.endswith("/")) and (response.mimetype or "") == "text/html":
            text = response.get_data(as_text=True)
            tag = f'<script src="./charge-points/{LOCUST_SCRIPT}"></script>'
            end = text.rfind("</body>")
            if end >= 0 and tag not in text:
                response.set_data(text[:end] + tag + "\n" + text[end:])
        return response
