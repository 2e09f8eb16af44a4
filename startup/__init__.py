"""Startup wiring: the only code that knows both the product and the sandbox.

`manage.py run_embedded` (`make run`) and its first-run bootstrap (an admin user, sandbox
credentials) live here, above every product app, so that the base (`txtcrm`) imports no
app and no product app imports the sandbox (docs/architecture.md, "Layers").
"""
