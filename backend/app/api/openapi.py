"""The API documents (`/openapi.json`) as the gateway really behaves.

FastAPI declares a `422` on every route with parameters; the gateway never answers 422 (validation
errors are 400s in OpenAI's envelope, declared per router with `error_responses`), so those go. Bodies
parsed by `JsonBody` (off the event loop) are declared here, since FastAPI does not see them. A route
that declares its own content type (server-sent events) loses the empty JSON schema FastAPI adds beside it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.api.json_body import JsonBody

UNUSED_SCHEMAS = ("HTTPValidationError", "ValidationError")


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document


def build_openapi(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(title=app.title, version=app.version, routes=app.routes, description=app.description)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods:
            operation = document["paths"][route.path_format][method.lower()]
            responses = operation.get("responses", {})
            responses.pop("422", None)
            for response in responses.values():
                content = response.get("content", {})
                if len(content) > 1 and content.get("application/json") == {"schema": {}}:
                    del content["application/json"]
            body = next((d.call for d in route.dependant.dependencies if isinstance(d.call, JsonBody)), None)
            if body is not None:
                operation["requestBody"] = _json_request_body(body.model, schemas)
    for name in UNUSED_SCHEMAS:
        schemas.pop(name, None)
    return document


def _json_request_body(model: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
    }
