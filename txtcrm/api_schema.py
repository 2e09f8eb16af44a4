"""The OpenAPI schema's error responses, documented in one place (docs/api.md, "Errors").

drf-spectacular documents what an operation answers when all goes well. AutoSchema (the
project's DEFAULT_SCHEMA_CLASS) adds the errors each operation can answer with, derived
from the operation itself, so a new endpoint is documented without a line of its own:

- 400 `ValidationError` when it reads any input: an id in its path (out of range:
  txtcrm.api.IdsInRange), query parameters (unknown ones, bad values), a body;
- 401 `Error` when it needs credentials (every operation here);
- 403 `Error` when a signed-in agent is refused (an admins-only permission), and on
  unsafe methods (a session's request without the CSRF token);
- 404 `Error` with an id in its path (no such object) or a `page` (past the last one);
- 415 `Error` when it reads a body: one whose Content-Type no parser reads (DRF's own).

A 409 is the operation's own to declare (txtcrm.api.CONFLICT, or the send guard's body):
whether a state conflict can happen is not something the schema can guess. Path ids are
given their range, 1 to txtcrm.api.MAX_ID.
"""

from types import SimpleNamespace

from django.contrib.auth import get_user_model
from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent

from txtcrm.api import MAX_ID, ErrorSerializer

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
VALIDATION_ERROR = {
    "type": "object",
    "description": (
        "What was wrong with the request, by field: a query parameter, a body field "
        '(nested for nested objects, e.g. {"audience": {"any_tags": ["..."]}}), `id` for '
        "an id in the path, `non_field_errors` for the body as a whole, `detail` for a "
        "body that could not be read at all."
    ),
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]
    },
}
DESCRIPTIONS = {
    "400": "The request is not valid: the body names each field (or query parameter) at fault.",
    "401": "No credentials, or a token that is not valid (WWW-Authenticate: Token).",
    "403": "Not allowed: admins only, or a session's request without its CSRF token.",
    "404": "No such object (or page).",
    "415": "The body's Content-Type is not one the operation reads (JSON, form, multipart).",
}


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        parameters = operation.get("parameters", [])
        for parameter in parameters:
            if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
                parameter["schema"].update(minimum=1, maximum=MAX_ID)
        for code in self._error_codes(operation, parameters):
            operation["responses"].setdefault(code, self._error_response(code))
        return operation

    def _error_codes(self, operation: dict, parameters: list[dict]) -> list[str]:
        in_path = any(parameter["in"] == "path" for parameter in parameters)
        paged = any(parameter["name"] == "page" for parameter in parameters)
        codes = []
        if parameters or "requestBody" in operation:
            codes.append("400")
        if {} not in operation.get("security", [{}]):
            codes.append("401")
        if self.method in UNSAFE_METHODS or self._refuses_agents():
            codes.append("403")
        if in_path or paged:
            codes.append("404")
        if "requestBody" in operation:
            codes.append("415")
        return codes

    def _refuses_agents(self) -> bool:
        """Whether a signed-in, active agent (not staff) is refused by a permission."""
        agent = SimpleNamespace(user=get_user_model()(is_active=True), method=self.method)
        return not all(
            permission.has_permission(agent, self.view)
            for permission in self.view.get_permissions()
        )

    def _error_response(self, code: str) -> dict:
        if code == "400":
            component = ResolvedComponent(
                name="ValidationError",
                type=ResolvedComponent.SCHEMA,
                object="ValidationError",
                schema=VALIDATION_ERROR,
            )
            self.registry.register_on_missing(component)
        else:
            component = self.resolve_serializer(ErrorSerializer, "response")
        return {
            "description": DESCRIPTIONS[code],
            "content": {"application/json": {"schema": component.ref}},
        }
