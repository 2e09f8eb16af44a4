"""The REST API's OpenAPI 3 schema and its browsable docs (docs/api.md).

/api/schema/  the schema, generated from the code by drf-spectacular: YAML by default,
              JSON with `?format=json` (or `Accept: application/json`). Signed-in users
              only (admins and agents), by token or session; 401 without credentials.
/api/docs/    Swagger UI over that schema, for a signed-in browser (anonymous visitors
              are sent to the login page). Every file it loads is ours: the UI from
              drf-spectacular-sidecar's static files, its settings script from
              `/api/docs/?script`, so it runs under a CSP allowing only 'self'.
"""

from django.contrib.auth.decorators import login_required
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

schema = SpectacularAPIView.as_view()
docs = login_required(
    SpectacularSwaggerSplitView.as_view(
        url_name="api-schema", template_name="txtcrm/api_docs.html", title="txtcrm API"
    )
)
