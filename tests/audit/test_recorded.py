"""Every action the audit log covers leaves an entry saying who, what, on what and from
where (docs/audit.md). One case per way in: the pages, the REST API, the admin site,
the commands and the import task."""

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts import signals as accounts_signals
from accounts.models import Invitation, Role
from accounts.services import hash_token
from audit.models import Action, AuditEntry
from automations import rules
from automations.models import KeywordRule, TagRoute
from campaigns.models import Campaign
from contacts import csv_import
from contacts.models import Contact, Tag
from messaging.models import CannedReply

ADDRESS = "203.0.113.9"


@dataclass
class World:
    ada: Client  # the admin, signed in, from ADDRESS
    ann: Client  # an agent, signed in, from ADDRESS
    admin_user: object
    agent: object
    contact: Contact

    def anonymous(self) -> Client:
        return Client(REMOTE_ADDR=ADDRESS)


@pytest.fixture
def world(admin_user, agent_ann) -> World:
    ada, ann = Client(REMOTE_ADDR=ADDRESS), Client(REMOTE_ADDR=ADDRESS)
    ada.force_login(admin_user)
    ann.force_login(agent_ann)
    contact = Contact.objects.create(first_name="Cleo", mobile_number="+447700900123")
    AuditEntry.objects.all().expire()  # the sign-ins of force_login: not what is tested
    return World(ada, ann, admin_user, agent_ann, contact)


@dataclass(frozen=True)
class Expect:
    action: Action
    actor: str  # username, "" for nobody (a visitor, a command)
    target: str  # contained in the entry's target
    ip: str | None = ADDRESS
    detail: tuple = ()  # (key, value) pairs the detail holds


def sign_in(w: World) -> Expect:
    w.anonymous().post(reverse("login"), {"username": "ann", "password": "ann-password-1"})
    return Expect(Action.SIGN_IN, "ann", "ann")


def sign_in_failed(w: World) -> Expect:
    w.anonymous().post(reverse("login"), {"username": "ann", "password": "wrong"})
    return Expect(Action.SIGN_IN_FAILED, "", "ann")


def locked_out(w: World) -> Expect:
    visitor = w.anonymous()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        visitor.post(reverse("login"), {"username": "ann", "password": "wrong"})
    return Expect(Action.LOCKED_OUT, "", "ann")


def sign_out(w: World) -> Expect:
    w.ann.post(reverse("logout"))
    return Expect(Action.SIGN_OUT, "ann", "ann")


def contact_export(w: World) -> Expect:
    response = w.ann.get(reverse("contacts-export"), {"q": "Cleo"})
    assert b"".join(response.streaming_content)
    return Expect(Action.EXPORT, "ann", "contacts", detail=(("count", 1),))


def campaign_recipients_export(w: World) -> Expect:
    campaign = Campaign.objects.create(name="Spring", sender="x", template="Hi")
    w.ada.get(reverse("campaign-recipients-csv", args=[campaign.pk]))
    return Expect(Action.EXPORT, "ada", f"campaign #{campaign.pk} recipients")


def import_started(w: World) -> Expect:
    upload = SimpleUploadedFile("people.csv", b"Mobile Number\n+447911123456\n")
    staged = w.ann.post(reverse("contacts-import"), {"file": upload})
    w.ann.post(
        staged["Location"],
        {"action": "import", "on_duplicate": "merge", "column_0": "mobile_number"},
    )
    return Expect(Action.IMPORT, "ann", "people.csv", detail=(("stage", "started"),))


def import_finished(w: World) -> Expect:
    upload = SimpleUploadedFile("people.csv", b"Mobile Number\n+447911123456\n+44\n")
    job_id = csv_import.start_import_job(upload, actor=w.agent)
    csv_import.run_import_job(job_id)  # as the Celery task runs it
    counters = {"created": 1, "failed": 1}
    expected = (("stage", "finished"), ("status", "done"), ("error_count", 1))
    entry = AuditEntry.objects.get(action=Action.IMPORT)
    assert counters.items() <= entry.detail["counters"].items()
    return Expect(Action.IMPORT, "ann", "people.csv", ip=None, detail=expected)


def contact_deleted(w: World) -> Expect:
    w.ann.post(reverse("contact-delete", args=[w.contact.pk]))
    return Expect(Action.DELETE, "ann", f"contact #{w.contact.pk}")


def contact_deleted_by_api(w: World) -> Expect:
    w.ann.delete(f"/api/contacts/{w.contact.pk}/")
    return Expect(Action.DELETE, "ann", f"contact #{w.contact.pk}", detail=(("via", "API"),))


def contacts_deleted_in_bulk(w: World) -> Expect:
    other = Contact.objects.create(first_name="Dan", mobile_number="+447700900125")
    w.ada.post(
        reverse("admin:contacts_contact_changelist"),
        {"action": "delete_selected", "post": "yes",
         ACTION_CHECKBOX_NAME: [w.contact.pk, other.pk]},
    )  # fmt: skip
    return Expect(Action.DELETE, "ada", "2 contacts", detail=(("via", "admin site"),))


def tag_deleted(w: World) -> Expect:
    tag = Tag.objects.create(name="VIP")
    w.ada.post(reverse("tag-delete", args=[tag.pk]))
    return Expect(Action.DELETE, "ada", "tag VIP")


def tag_deleted_by_api(w: World) -> Expect:
    tag = Tag.objects.create(name="VIP")
    w.ada.delete(f"/api/tags/{tag.pk}/")
    return Expect(Action.DELETE, "ada", "tag VIP", detail=(("via", "API"),))


def canned_reply_deleted(w: World) -> Expect:
    reply = CannedReply.objects.create(title="Hours", body="We open at 9.")
    w.ada.post(reverse("canned-reply-delete", args=[reply.pk]))
    return Expect(Action.DELETE, "ada", "canned reply Hours", detail=(("team", True),))


def keyword_rule_deleted(w: World) -> Expect:
    rule = KeywordRule.objects.create(text="hours", reply="9 to 5")
    w.ada.post(reverse("automation-rule-delete", args=[rule.pk]))
    return Expect(Action.DELETE, "ada", "keyword rule hours")


def keyword_rule_deleted_on_the_admin_site(w: World) -> Expect:
    rule = KeywordRule.objects.create(text="hours", reply="9 to 5")
    w.ada.post(reverse("admin:automations_keywordrule_delete", args=[rule.pk]), {"post": "yes"})
    return Expect(Action.DELETE, "ada", "keyword rule", detail=(("via", "admin site"),))


def outgoing_webhook_added_on_the_admin_site(w: World) -> Expect:
    w.ada.post(
        reverse("admin:integrations_outgoingwebhook_add"),
        {"event_type": "message.received", "url": "https://hooks.example.com/in?token=s3cret",
         "active": "on"},
    )  # fmt: skip
    entry = AuditEntry.objects.get(action=Action.WEBHOOK)
    assert "s3cret" not in f"{entry.target} {entry.detail}"  # a URL may carry a token
    return Expect(Action.WEBHOOK, "ada", "outgoing webhook #", detail=(("change", "added"),))


def route_deleted(w: World) -> Expect:
    route = TagRoute.objects.create(tag=Tag.objects.create(name="VIP"), user=w.agent)
    w.ada.post(reverse("automation-route-delete", args=[route.pk]))
    return Expect(Action.DELETE, "ada", "assignment by tag VIP")


def opted_back_in(w: World) -> Expect:
    Contact.objects.filter(pk=w.contact.pk).update(allow_sms=False)
    w.ann.post(
        reverse("contact-allow-sms", args=[w.contact.pk]), {"allow": "yes", "reason": "asked"}
    )
    return Expect(
        Action.OPT_OUT_OVERRIDE, "ann", f"contact #{w.contact.pk}", detail=(("reason", "asked"),)
    )


def opted_back_in_by_api(w: World) -> Expect:
    Contact.objects.filter(pk=w.contact.pk).update(allow_sms=False)
    w.ann.patch(
        f"/api/contacts/{w.contact.pk}/", {"allow_sms": True}, content_type="application/json"
    )
    return Expect(Action.OPT_OUT_OVERRIDE, "ann", f"contact #{w.contact.pk}")


def opted_back_in_on_the_admin_site(w: World) -> Expect:
    Contact.objects.filter(pk=w.contact.pk).update(allow_sms=False)
    w.ada.post(
        reverse("admin:contacts_contact_changelist"),
        {"action": "opt_in", ACTION_CHECKBOX_NAME: [w.contact.pk]},
    )
    return Expect(Action.OPT_OUT_OVERRIDE, "ada", f"contact #{w.contact.pk}")


def automations_saved(w: World) -> Expect:
    form = {f"hours_{day}": "" for day in range(7)} | {
        "holidays": "", "away_text": "", "welcome_text": "Back at 9", "welcome_enabled": "on",
        "assignment": rules.OFF,
    }  # fmt: skip
    w.ada.post(reverse("automations"), form)
    entry = AuditEntry.objects.get(action=Action.SETTINGS)
    assert "Back at 9" not in str(entry.detail)  # which fields changed, not the texts
    return Expect(Action.SETTINGS, "ada", "automations")


def keyword_rule_added(w: World) -> Expect:
    w.ada.post(
        reverse("automation-rule-new"),
        {"match": rules.EQUALS, "text": "prices", "reply": "See acme.test", "position": 0},
    )
    return Expect(Action.SETTINGS, "ada", "keyword rule prices", detail=(("change", "added"),))


def custom_field_labels_saved(w: World) -> Expect:
    w.ada.post(reverse("custom-fields"), {"custom01": "Birthday"})
    return Expect(
        Action.SETTINGS, "ada", "custom field labels", detail=(("custom01", "Birthday"),)
    )


def role_changed(w: World) -> Expect:
    w.ada.post(reverse("user-role", args=[w.agent.pk]), {"role": "admin"})
    return Expect(Action.ROLE, "ada", "ann", detail=(("change", "role"), ("role", "admin")))


def deactivated(w: World) -> Expect:
    w.ada.post(reverse("user-deactivate", args=[w.agent.pk]))
    return Expect(Action.ROLE, "ada", "ann", detail=(("change", "deactivated"),))


def reactivated(w: World) -> Expect:
    get_user_model().objects.filter(pk=w.agent.pk).update(is_active=False)
    w.ada.post(reverse("user-reactivate", args=[w.agent.pk]))
    return Expect(Action.ROLE, "ada", "ann", detail=(("change", "reactivated"),))


def unlocked(w: World) -> Expect:
    w.ada.post(reverse("user-unlock", args=[w.agent.pk]))
    return Expect(Action.ROLE, "ada", "ann", detail=(("change", "unlocked"),))


def password_reset_by_admin(w: World) -> Expect:
    w.ada.post(reverse("user-reset-password", args=[w.agent.pk]))
    entry = AuditEntry.objects.get(action=Action.ROLE)
    assert "reset/" not in str(entry.detail)  # never the link itself
    return Expect(Action.ROLE, "ada", "ann", detail=(("change", "password-reset-link"),))


def invited(w: World) -> Expect:
    w.ada.post(
        reverse("user-invite"), {"email": "dee@example.com", "name": "Dee", "role": "agent"}
    )
    return Expect(Action.ROLE, "ada", "dee@example.com", detail=(("change", "invited"),))


def _invitation(w: World) -> Invitation:
    return Invitation.objects.create(
        email="dee@example.com",
        role=Role.AGENT,
        token_hash="0" * 64,
        invited_by=w.admin_user,
        expires_at=timezone.now() + timezone.timedelta(days=1),
    )


def invitation_resent(w: World) -> Expect:
    w.ada.post(reverse("invitation-resend", args=[_invitation(w).pk]))
    return Expect(Action.ROLE, "ada", "dee@example.com", detail=(("change", "invitation-resent"),))


def invitation_revoked(w: World) -> Expect:
    w.ada.post(reverse("invitation-revoke", args=[_invitation(w).pk]))
    return Expect(
        Action.ROLE, "ada", "dee@example.com", detail=(("change", "invitation-revoked"),)
    )


def invitation_accepted(w: World) -> Expect:
    invitation = _invitation(w)
    Invitation.objects.filter(pk=invitation.pk).update(token_hash=hash_token("t" * 43))
    w.anonymous().post(
        reverse("accept-invitation", args=["t" * 43]),
        {"username": "dee", "name": "Dee", "password1": "dee-password-1",
         "password2": "dee-password-1"},
    )  # fmt: skip
    return Expect(Action.ROLE, "dee", "dee", detail=(("change", "invitation-accepted"),))


def contacts_exported_by_command(w: World) -> Expect:
    call_command("export_contacts", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Expect(
        Action.EXPORT, "", "contacts", ip=None, detail=(("via", "manage.py export_contacts"),)
    )


def api_token_on_the_profile(w: World) -> Expect:
    w.ann.post(reverse("profile"))
    return Expect(Action.API_TOKEN, "ann", "ann", detail=(("via", "profile"),))


def api_token_by_command(w: World) -> Expect:
    call_command("api_token", "ann", "--rotate", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Expect(Action.API_TOKEN, "", "ann", ip=None, detail=(("via", "manage.py api_token"),))


def api_token_added_on_the_admin_site(w: World) -> Expect:
    w.ada.post(reverse("admin:authtoken_tokenproxy_add"), {"user": w.agent.pk})
    entry = AuditEntry.objects.get(action=Action.API_TOKEN)
    assert Token.objects.get(user=w.agent).key not in f"{entry.target} {entry.detail}"
    return Expect(Action.API_TOKEN, "ada", f"API token of user #{w.agent.pk}")


def webhooks_unsubscribed(w: World) -> Expect:
    call_command("txtsync_webhooks", "unsubscribe", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Expect(
        Action.WEBHOOK, "", "TxtSync webhooks", ip=None, detail=(("change", "unsubscribed"),)
    )


CASES = [
    sign_in, sign_in_failed, locked_out, sign_out,
    contact_export, campaign_recipients_export, import_started, import_finished,
    contact_deleted, contact_deleted_by_api, contacts_deleted_in_bulk, tag_deleted,
    tag_deleted_by_api, canned_reply_deleted, keyword_rule_deleted,
    keyword_rule_deleted_on_the_admin_site, route_deleted,
    outgoing_webhook_added_on_the_admin_site,
    opted_back_in, opted_back_in_by_api, opted_back_in_on_the_admin_site,
    automations_saved, keyword_rule_added, custom_field_labels_saved,
    role_changed, deactivated, reactivated, unlocked, password_reset_by_admin, invited,
    invitation_resent, invitation_revoked, invitation_accepted, contacts_exported_by_command,
    api_token_on_the_profile, api_token_by_command, api_token_added_on_the_admin_site,
    webhooks_unsubscribed,
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.__name__)
def test_the_action_is_recorded_with_who_what_on_what_and_from_where(case, world):
    expected = case(world)

    entries = list(AuditEntry.objects.filter(action=expected.action))
    assert len(entries) == 1, [str(entry) for entry in AuditEntry.objects.all()]
    [entry] = entries
    assert entry.actor_name == expected.actor
    assert (entry.actor.get_username() if entry.actor else "") == expected.actor
    assert expected.target in entry.target
    assert entry.ip == expected.ip
    for key, value in expected.detail:
        assert entry.detail.get(key) == value, entry.detail
    assert (timezone.now() - entry.at).total_seconds() < 60


def test_an_opt_out_kept_or_made_is_no_override(world):
    world.ann.post(reverse("contact-allow-sms", args=[world.contact.pk]), {"allow": "no"})
    world.ann.post(reverse("contact-allow-sms", args=[world.contact.pk]), {"allow": "no"})

    assert not AuditEntry.objects.filter(action=Action.OPT_OUT_OVERRIDE).exists()


def test_a_sign_in_refused_during_a_lockout_is_one_lockout_entry_not_two(world):
    visitor = world.anonymous()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        visitor.post(reverse("login"), {"username": "ann", "password": "wrong"})
    before = AuditEntry.objects.count()

    visitor.post(reverse("login"), {"username": "ann", "password": "ann-password-1"})

    assert AuditEntry.objects.count() == before + 1
    assert AuditEntry.objects.order_by("-id").first().action == Action.LOCKED_OUT


def test_a_failed_sign_in_stores_the_username_typed_but_never_the_password(world):
    world.anonymous().post(reverse("login"), {"username": "ann", "password": "s3cret-guess"})

    entry = AuditEntry.objects.get(action=Action.SIGN_IN_FAILED)
    assert "s3cret-guess" not in f"{entry.target} {entry.detail}"


def test_accounts_may_name_another_action_for_its_other_changes(world):
    accounts_signals.access_changed.send(
        sender=None,
        request=None,
        target=world.agent,
        change="two-factor-reset",
        detail={},
        action=Action.TWO_FACTOR.value,
    )

    entry = AuditEntry.objects.get(action=Action.TWO_FACTOR)
    assert (entry.target, entry.detail) == ("ann", {"change": "two-factor-reset"})
