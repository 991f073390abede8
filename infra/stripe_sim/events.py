"""Events API (`/v1/events`) and webhook endpoint management (`/v1/webhook_endpoints`).

Registering an endpoint through the real API lets a test or the demo point the simulator at a
receiver whose address is only known after the simulator started.
"""

from __future__ import annotations

import fnmatch

from .errors import no_such
from .forms import Params
from .routing import ApiRequest, Router, page
from .sim import Simulator
from .store import JSON, new_id, now, snapshot
from .webhooks import Endpoint


def _endpoint_json(endpoint: Endpoint, created: int, *, with_secret: bool) -> JSON:
    body: JSON = {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "api_version": None,
        "application": None,
        "created": created,
        "description": None,
        "enabled_events": list(endpoint.enabled_events),
        "livemode": False,
        "metadata": {},
        "status": "enabled",
        "url": endpoint.url,
    }
    if with_secret:
        body["secret"] = endpoint.secret
    return body


def _enabled_events(p: Params) -> list[str]:
    raw = p.raw("enabled_events")
    if raw is None or raw == "":
        return ["*"]
    return list(raw) if isinstance(raw, list) else [str(raw)]


def register(router: Router) -> None:
    @router.route("GET", "/v1/events")
    def list_events(sim: Simulator, req: ApiRequest) -> JSON:
        p = req.params
        items = list(reversed(sim.store.all("event")))
        wanted = p.text("type")
        if wanted is not None:
            items = [e for e in items if fnmatch.fnmatchcase(e["type"], wanted)]
        types = p.raw("types")
        if types:
            allowed = set(types if isinstance(types, list) else [types])
            items = [e for e in items if e["type"] in allowed]
        created = p.sub("created")
        for op, test in (
            ("gt", int.__gt__),
            ("gte", int.__ge__),
            ("lt", int.__lt__),
            ("lte", int.__le__),
        ):
            bound = created.integer(op)
            if bound is not None:
                items = [e for e in items if test(e["created"], bound)]
        return page(sim, req, "/v1/events", items)

    @router.route("GET", "/v1/events/{event}")
    def retrieve_event(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(sim.store.get("event", req.arg("event")))

    @router.route("POST", "/v1/webhook_endpoints")
    def create_endpoint(sim: Simulator, req: ApiRequest) -> JSON:
        p = req.params
        endpoint = Endpoint(
            url=p.req_text("url"),
            secret=new_id("whsec_", 32),
            enabled_events=_enabled_events(p),
            id=new_id("we_"),
        )
        created = now()
        sim.webhooks.endpoints.append(endpoint)
        sim.store.side(str(endpoint.id))["created"] = created
        return _endpoint_json(endpoint, created, with_secret=True)

    @router.route("GET", "/v1/webhook_endpoints")
    def list_endpoints(sim: Simulator, req: ApiRequest) -> JSON:
        items = [
            _endpoint_json(e, sim.store.side(str(e.id)).get("created", 0), with_secret=False)
            for e in reversed(sim.webhooks.endpoints)
            if e.id is not None
        ]
        return page(sim, req, "/v1/webhook_endpoints", items)

    @router.route("GET", "/v1/webhook_endpoints/{endpoint}")
    def retrieve_endpoint(sim: Simulator, req: ApiRequest) -> JSON:
        endpoint = _find(sim, req.arg("endpoint"))
        return _endpoint_json(
            endpoint, sim.store.side(str(endpoint.id)).get("created", 0), with_secret=False
        )

    @router.route("POST", "/v1/webhook_endpoints/{endpoint}")
    def update_endpoint(sim: Simulator, req: ApiRequest) -> JSON:
        endpoint = _find(sim, req.arg("endpoint"))
        p = req.params
        url = p.text("url")
        if url is not None:
            endpoint.url = url
        if "enabled_events" in p:
            endpoint.enabled_events = _enabled_events(p)
        return _endpoint_json(
            endpoint, sim.store.side(str(endpoint.id)).get("created", 0), with_secret=False
        )

    @router.route("DELETE", "/v1/webhook_endpoints/{endpoint}")
    def delete_endpoint(sim: Simulator, req: ApiRequest) -> JSON:
        endpoint = _find(sim, req.arg("endpoint"))
        sim.webhooks.endpoints.remove(endpoint)
        return {"id": endpoint.id, "object": "webhook_endpoint", "deleted": True}


def _find(sim: Simulator, ident: str) -> Endpoint:
    for endpoint in sim.webhooks.endpoints:
        if endpoint.id == ident:
            return endpoint
    raise no_such("webhook_endpoint", ident)
