"""The HTTP API: routers, request and response schemas, middleware, dependencies, error mapping."""
