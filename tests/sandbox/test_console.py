"""The sandbox console page: staff play the outside world by hand."""

import pytest
from django.urls import reverse

from sandbox import services
from sandbox.models import SMS, Contact, Link, Status

URL = reverse("sandbox:console")


@pytest.fixture
def staff(admin_user, client):
    client.force_login(admin_user)
    return client


def test_the_console_needs_a_signed_in_staff_user(client, agent_ann):
    assert client.get(URL).status_code == 302
    client.force_login(agent_ann)
    assert client.get(URL).status_code == 403


def test_texting_in_from_the_console(staff):
    response = staff.post(
        URL, {"action": "inbound", "from": "07911 123456", "message": "STOP"}, follow=True
    )

    sms = SMS.objects.get()
    assert (sms.direction, sms.from_number, sms.message) == (1, "+447911123456", "STOP")
    assert Contact.objects.get().allow_sms is False
    assert "Texted in as 07911 123456." in response.content.decode()


def test_sending_from_the_portal_and_clicking_a_link(staff):
    staff.post(URL, {"action": "outbound", "to": "+447911123456", "message": "https://a.test"})
    sms = SMS.objects.get()
    assert (sms.direction, sms.application, sms.status) == (0, None, Status.QUEUED)

    staff.post(URL, {"action": "click", "sms_id": str(sms.pk)})

    assert Link.objects.get().clicks == 1


def test_bad_input_is_explained_not_stored(staff):
    response = staff.post(URL, {"action": "inbound", "from": "12", "message": "x"}, follow=True)

    assert "From is not a valid phone number" in response.content.decode()
    assert not SMS.objects.exists()


def test_message_bodies_are_escaped(staff):
    services.ensure_application("default")
    staff.post(
        URL, {"action": "inbound", "from": "+447911123456", "message": "<script>x</script>"}
    )

    html = staff.get(URL).content.decode()

    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


def test_the_console_form_needs_csrf(admin_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)

    assert strict.post(URL, {"action": "inbound", "from": "+447911123456"}).status_code == 403


def test_staff_see_the_console_in_the_navigation_and_agents_do_not(client, admin_user, agent_ann):
    client.force_login(admin_user)
    assert URL in client.get(reverse("home")).content.decode()
    client.force_login(agent_ann)
    assert URL not in client.get(reverse("home")).content.decode()
