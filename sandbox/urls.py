from django.urls import path, re_path

from sandbox import api, console

app_name = "sandbox"

urlpatterns = [
    path("contacts", api.contacts, name="contacts"),
    # External references are arbitrary strings; once URL-decoded they may hold "/".
    path("contacts/external/<path:reference>", api.contact_by_reference, name="contact-by-ref"),
    path("contacts/<str:contact_id>", api.contact_by_id, name="contact"),
    path("sms/send", api.sms_send, name="sms-send"),
    path("sms/send/bulk", api.sms_send_bulk, name="sms-send-bulk"),
    path("system/applications/webhooks/type/0", api.subscribe_inbound, name="hook-inbound"),
    path("system/applications/webhooks/type/5", api.subscribe_outbound, name="hook-outbound"),
    path("system/applications/webhooks/<str:hook_id>", api.hook, name="hook"),
    path("_simulate/inbound", api.simulate_inbound_view, name="simulate-inbound"),
    path("_simulate/outbound", api.simulate_outbound_view, name="simulate-outbound"),
    path("_simulate/click", api.simulate_click_view, name="simulate-click"),
    path("_simulate/faults", api.simulate_faults_view, name="simulate-faults"),
    path("_simulate/profile", api.simulate_profile_view, name="simulate-profile"),
    path("_stats", api.stats, name="stats"),
    path("console/", console.console, name="console"),
    re_path(r"^(?P<path>.*)$", api.not_found),
]
