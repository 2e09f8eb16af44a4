"""Languages (docs/user-guide.md): every page in English or Italian, chosen per user on
the profile page, else from the browser; dates and numbers formatted for the language;
the Italian catalog complete and compiled; and a guard that no template we own shows
text outside the translation tags."""

import ast
import gettext
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.template import engines
from django.template.base import Lexer, TokenType
from django.test import Client
from django.urls import reverse
from django.utils import translation

from campaigns import services as campaigns
from campaigns.models import Campaign, CampaignStatus, RecipientState
from contacts.csv_import import ImportReport
from contacts.models import Contact
from messaging.models import Direction, Message
from tests.support.inbox import converse, said_in
from txtcrm.models import UserPreference

LOCALE = Path(settings.LOCALE_PATHS[0]) / "it" / "LC_MESSAGES"
ANN_NUMBER = "+447911123456"
NOV_29 = datetime(2026, 11, 29, 14, 5, tzinfo=UTC)  # TIME_ZONE is UTC in the tests


def signed_in(user, language: str = "") -> Client:
    """A browser signed in as `user`, who chose `language` ("" = the browser's)."""
    if language:
        UserPreference.objects.create(user=user, language=language)
    client = Client()
    client.force_login(user)  # sign-in reads the choice once (txtcrm.languages)
    return client


@pytest.fixture
def ann_in_italian(agent_ann) -> Client:
    return signed_in(agent_ann, "it")


@pytest.fixture
def bob_in_english(agent_bob) -> Client:
    return signed_in(agent_bob)


# --- Pages in the user's language ------------------------------------------------------------


def test_an_italian_user_gets_the_inbox_in_italian(ann_in_italian):
    conversation = converse(ANN_NUMBER, said_in("Ciao"), first="Ann")

    html = ann_in_italian.get(reverse("inbox-thread", args=[conversation.pk])).content.decode()

    assert '<html lang="it">' in html
    for text in ("Nuova conversazione", "Scorciatoie da tastiera", "Non assegnata", "Invia"):
        assert text in html, text
    # The composer's counter, before the script takes over, and the script's own words.
    assert "0 caratteri · GSM-7 · 0 SMS (160 rimanenti)" in html
    assert f'<script src="{reverse("javascript-catalog")}"></script>' in html
    assert "New conversation" not in html


def test_numbers_for_scripts_are_not_localised(ann_in_italian, settings):
    settings.INBOX_POLL_SECONDS = 0.3  # "0,3" in Italian: inbox.js would read 0

    html = ann_in_italian.get(reverse("inbox")).content.decode()

    assert 'data-interval="0.3"' in html


def test_an_english_user_gets_english(bob_in_english):
    converse(ANN_NUMBER, said_in("Hi"), first="Ann")

    html = bob_in_english.get(reverse("inbox")).content.decode()

    assert '<html lang="en">' in html and "New conversation" in html
    assert "Nuova conversazione" not in html


def test_contacts_pages_in_italian_with_italian_dates(ann_in_italian, bob_in_english):
    contact = Contact.objects.create(
        mobile_number=ANN_NUMBER, first_name="Ann", last_communication_date=NOV_29
    )

    italian = ann_in_italian.get(reverse("contacts")).content.decode()
    english = bob_in_english.get(reverse("contacts")).content.decode()
    detail = ann_in_italian.get(reverse("contact", args=[contact.pk])).content.decode()

    assert "Tutti i contatti" in italian and "Ultima comunicazione" in italian
    assert "29 nov 2026, 14:05" in italian
    assert "29 Nov 2026, 14:05" in english and "All contacts" in english
    assert "Consenso SMS" in detail and "Nome" in detail and "SMS consentiti" in detail


def test_campaign_costs_and_dates_in_italian_formats(admin_user):
    campaign = campaigns.launch(
        Campaign.objects.create(
            name="Saldi", sender="txtcrm", template="Ciao", audience={"numbers": [ANN_NUMBER]}
        )
    )
    message = Message.objects.create(
        direction=Direction.OUTBOUND, from_number="txtcrm", to_number=ANN_NUMBER, body="Ciao",
        status=2, cost_local=Decimal("1234.56"),
    )  # fmt: skip
    campaign.recipients.update(state=RecipientState.SENT, message=message)
    Campaign.objects.filter(pk=campaign.pk).update(
        status=CampaignStatus.FINISHED, launched_at=NOV_29, finished_at=NOV_29
    )
    url = reverse("campaign", args=[campaign.pk])

    italian = signed_in(admin_user, "it").get(url).content.decode()
    english = signed_in(get_user_model().objects.create_superuser("eve", "", "pw")).get(url)

    assert "1.234,56 GBP" in italian and "Resoconto" in italian and "Conclusa" in italian
    assert "Dom 29 nov 2026, 14:05" in italian  # the campaign's moments, with the weekday
    english = english.content.decode()
    assert "1,234.56 GBP" in english and "Report" in english
    assert "Sun 29 Nov 2026, 14:05" in english


def test_an_import_report_is_worded_in_the_readers_language():
    report = ImportReport(processed=1234, created=1200, merged=30, failed=4, blank=1)

    with translation.override("it"):
        italian = report.summary()
    english = report.summary()

    assert italian.startswith("Importate 1.230 su 1.234 righe: 1.200 creati, 30 uniti")
    assert italian.endswith("(1 riga vuota ignorata)")
    assert english.startswith("Imported 1,230 of 1,234 rows: 1,200 created, 30 merged")
    assert ImportReport.from_dict(report.as_dict()).summary() == english


def test_the_campaigns_list_in_italian(admin_user):
    html = signed_in(admin_user, "it").get(reverse("campaigns")).content.decode()

    assert "Ancora nessuna campagna." in html and "Scrivi la prima campagna" in html


def test_the_profile_page_in_italian(ann_in_italian):
    html = ann_in_italian.get(reverse("profile")).content.decode()

    assert "Profilo" in html and "Lingua" in html and "Non hai ancora un token API." in html
    assert '<option value="it" selected>Italiano</option>' in html


def test_a_visitor_gets_the_language_of_their_browser(client, db):
    italian = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="it-IT,it;q=0.9,en;q=0.5")
    english = Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    other = Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE="de")

    assert '<html lang="it">' in italian.content.decode() and italian["Content-Language"] == "it"
    assert "Accedi" in italian.content.decode()
    assert "Sign in" in english.content.decode()
    assert '<html lang="en">' in other.content.decode()  # LANGUAGE_CODE


def test_a_chosen_language_beats_the_browser(ann_in_italian):
    html = ann_in_italian.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<html lang="it">' in html and "Per iniziare" in html  # an agent has no Settings


def test_choosing_a_language_on_the_profile_page(agent_ann):
    client = signed_in(agent_ann)
    assert '<html lang="en">' in client.get(reverse("home")).content.decode()

    response = client.post(reverse("profile"), {"action": "language", "language": "it"})

    assert response.status_code == 302 and response.url == reverse("profile")
    assert UserPreference.objects.get(user=agent_ann).language == "it"
    html = client.get(reverse("profile")).content.decode()
    assert "Lingua salvata." in html and '<html lang="it">' in html
    # Remembered for the next sign-in, on any browser.
    assert '<html lang="it">' in signed_in(agent_ann).get(reverse("home")).content.decode()

    client.post(reverse("profile"), {"action": "language", "language": ""})

    assert UserPreference.objects.get(user=agent_ann).language == ""
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in html  # the browser's again


def test_an_unknown_language_is_refused_and_nothing_changes(agent_ann):
    client = signed_in(agent_ann)

    response = client.post(reverse("profile"), {"action": "language", "language": "xx"})

    assert response.status_code == 200 and 'class="errorlist"' in response.content.decode()
    assert not UserPreference.objects.exists()


def test_the_language_costs_no_query_per_page(ann_in_italian, django_assert_num_queries):
    ann_in_italian.get(reverse("home"))  # the first request after sign-in

    with django_assert_num_queries(2):  # the session and the user, as without languages
        html = ann_in_italian.get(reverse("home")).content.decode()
    assert '<html lang="it">' in html


def test_the_scripts_words_come_from_the_catalog(ann_in_italian, bob_in_english):
    italian = ann_in_italian.get(reverse("javascript-catalog")).content.decode()
    english = bob_in_english.get(reverse("javascript-catalog")).content.decode()

    assert "%(characters)s caratteri \\u00b7 %(encoding)s" in italian
    assert "ora locale" in italian and "Troppo lungo" in italian
    assert "caratteri" not in english


@pytest.mark.parametrize("script", ["inbox.js", "campaigns.js", "contacts.js"])
def test_every_sentence_in_our_scripts_is_in_the_catalog(script):
    source = (Path(settings.BASE_DIR) / "static" / "js" / script).read_text(encoding="utf-8")
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)  # comments
    source = re.sub(r"^\s*//.*$", "", source, flags=re.M)
    source = re.sub(r'className = "[^"]*"', "", source)  # CSS classes, not words
    catalog = {entry["msgid"] for entry in read_po(LOCALE / "djangojs.po")} | {
        entry.get("msgid_plural") for entry in read_po(LOCALE / "djangojs.po")
    }
    literals = re.findall(r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'|`([^`]*)`', source)
    prose = [
        text
        for found in literals
        for text in found
        if re.search(r"[A-Za-z]{2,} [A-Za-z]{2,}", text)
        and "[" not in text
        and text != "use strict"
    ]

    assert prose and [text for text in prose if text not in catalog] == []


# --- The catalog ----------------------------------------------------------------------------


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file as written by makemessages (blank-line separated):
    msgctxt, msgid, msgid_plural, msgstr or msgstr[n], and the flags. Obsolete (#~)
    entries are left out, as msgfmt leaves them out."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry, field = {"flags": set()}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):  # a continuation of the field above
                entry[field] += ast.literal_eval(line)
            else:
                field, _space, value = line.partition(" ")
                entry[field] = ast.literal_eval(value)
        if "msgid" in entry:
            entries.append(entry)
    return entries


def catalog_of(entries: list[dict]) -> dict:
    """What msgfmt would compile: the translated, non-fuzzy entries, keyed as Python's
    gettext keys them (context + EOT + msgid; plurals by (msgid, n))."""
    catalog = {}
    for entry in entries:
        if not entry["msgid"] or "fuzzy" in entry.get("flags", ()):
            continue
        key = f"{entry['msgctxt']}\x04{entry['msgid']}" if "msgctxt" in entry else entry["msgid"]
        if "msgid_plural" in entry:
            for name, value in entry.items():
                if name.startswith("msgstr[") and value:
                    catalog[(key, int(name[7:-1]))] = value
        elif entry.get("msgstr"):
            catalog[key] = entry["msgstr"]
    return catalog


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_the_italian_catalog_is_complete_and_compiled(domain):
    entries = read_po(LOCALE / f"{domain}.po")
    messages = [entry for entry in entries if entry["msgid"]]

    assert len(messages) > (500 if domain == "django" else 5)
    fuzzy = [e["msgid"] for e in messages if "fuzzy" in e.get("flags", ())]
    untranslated = [
        e["msgid"]
        for e in messages
        if not (e.get("msgstr") or all(v for k, v in e.items() if k.startswith("msgstr[")))
        or ("msgid_plural" in e and not e.get("msgstr[1]"))
    ]
    assert fuzzy == [] and untranslated == [], "run makemessages, translate, compilemessages"
    header = next(entry for entry in entries if not entry["msgid"])["msgstr"]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header
    with open(LOCALE / f"{domain}.mo", "rb") as compiled:
        mo = gettext.GNUTranslations(compiled)._catalog
    mo = {key: value for key, value in mo.items() if key != ""}
    # The .mo holds exactly the .po's translations: compilemessages ran after the last edit.
    assert mo == catalog_of(entries), "run `manage.py compilemessages --ignore=.venv`"


def test_placeholders_survive_translation():
    for entry in read_po(LOCALE / "django.po") + read_po(LOCALE / "djangojs.po"):
        english = sorted(re.findall(r"%\(\w+\)[sd]", entry.get("msgid_plural", entry["msgid"])))
        for name, value in entry.items():
            if name.startswith("msgstr") and entry["msgid"]:
                assert sorted(re.findall(r"%\(\w+\)[sd]", value)) == english or (
                    name == "msgstr[0]" and "%(" not in entry["msgid"]
                ), (entry["msgid"], value)


# --- The guard: no template we own shows text outside the translation tags -----------------

# Templates other parts own: the sign-in and password pages, and the sandbox console (a
# developer tool, English).
NOT_OURS = ("registration/", "sandbox/", "section.html")
# Names and symbols that read the same in every language.
ALLOWED = {
    "txtcrm", "TxtSync", "AllowSMS", "OverallRating", "API", "ContactID", "ExternalReference",
    "Client", "Key", "GSM-7", "UCS-2", "SMS", "SMSID", "CSV", "JSON", "URL",
}  # fmt: skip
# Attributes people read (or hear, from a screen reader).
SHOWN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "data-confirm", "label")
OPENING = re.compile(r"^\s*(blocktranslate|blocktrans|comment)\b")
MARK = "\x00"  # stands for a template tag or variable in the flattened text


def our_templates() -> list[Path]:
    roots = [Path(settings.BASE_DIR) / "templates"] + [
        Path(settings.BASE_DIR) / app / "templates"
        for app in (
            "txtcrm",
            "accounts",
            "contacts",
            "messaging",
            "campaigns",
            "automations",
            "notifications",
            "integrations",
        )
    ]
    found = [path for root in roots if root.exists() for path in root.rglob("*.html")]
    return sorted(p for p in found if not any(part in str(p) for part in NOT_OURS))


def flattened(source: str) -> tuple[str, list[str]]:
    """The template's text with every tag and variable replaced by MARK and the insides of
    blocktranslate and comment blocks dropped; plus the `default:"..."` texts."""
    text, literals, depth = [], [], 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            if OPENING.match(token.contents):
                depth += 1
            elif re.match(r"^\s*end(blocktranslate|blocktrans|comment)\b", token.contents):
                depth -= 1
        if token.token_type in (TokenType.VAR, TokenType.BLOCK):
            literals += re.findall(r'\|default(?:_if_none)?:"([^"]*)"', token.contents)
        if depth or token.token_type == TokenType.COMMENT:
            continue
        text.append(token.contents if token.token_type == TokenType.TEXT else MARK)
    return "".join(text), literals


def untranslated(source: str) -> list[str]:
    text, literals = flattened(source)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    found = []
    for attribute in SHOWN_ATTRIBUTES:
        for value in re.findall(rf'\s{attribute}="([^"]*)"', text):
            found += words(value.replace(MARK, " "))
    for literal in literals:
        found += words(literal)
    text = re.sub(r"<[^>]*>", " ", text)  # tags, with their attribute names and values
    text = re.sub(r"&\w+;", " ", text.replace(MARK, " "))
    return found + words(text)


def words(text: str) -> list[str]:
    return [
        word
        for word in re.findall(r"[A-Za-z][A-Za-z0-9_.-]*", text)
        if word not in ALLOWED and len(word) > 1  # single letters: keyboard keys
    ]


def test_the_guard_finds_untranslated_text():
    assert untranslated("<p>Hello {{ name }}</p>") == ["Hello"]
    assert untranslated('<input placeholder="Search">') == ["Search"]
    assert untranslated('{{ value|default:"never" }}') == ["never"]
    assert untranslated("{% load i18n %}<p>{% translate 'Hello' %} · txtcrm</p>") == []
    source = "{% blocktranslate %}Hello {{ name }}{% endblocktranslate %}"
    assert untranslated(f'<b title="{{% translate "Hi" %}}">{source}</b>') == []


@pytest.mark.parametrize("path", our_templates(), ids=lambda path: path.name)
def test_every_template_we_own_is_translated(path):
    assert untranslated(path.read_text(encoding="utf-8")) == [], path


def test_the_guard_reads_every_template_we_own():
    names = {path.name for path in our_templates()}

    assert {"inbox.html", "list.html", "detail.html", "profile.html", "base.html"} <= names
    assert "login.html" not in names
    engine = engines["django"]
    for path in our_templates():  # and each one is a template Django can load
        engine.from_string(path.read_text(encoding="utf-8"))


# --- The guard for Python: what views and forms show goes through gettext -------------------

APPS = (
    "accounts", "contacts", "messaging", "campaigns", "automations", "notifications",
    "integrations", "txtcrm",
)  # fmt: skip
# Shown to people: flash messages, form labels and help, validation errors, 403 reasons.
FLASH = {"success", "error", "info", "warning"}  # django.contrib.messages
ERRORS = {"ValidationError", "PermissionDenied", "message_user"}  # and the admin's notes
SHOWN_KEYWORDS = {"label", "help_text", "description"}


def plain_text(node: ast.AST) -> bool:
    """A literal sentence or an f-string: text that gettext never sees."""
    if isinstance(node, ast.JoinedStr):  # words around the {}: f"Saved {name}."
        parts = [part.value for part in node.values if isinstance(part, ast.Constant)]
        return any(re.search("[A-Za-z]{2}", part) for part in parts)
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and " " in node.value


def untranslated_python(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        owner = getattr(getattr(node.func, "value", None), "id", "")
        if name in ERRORS or (name in FLASH and owner == "messages"):
            found += [ast.unparse(arg) for arg in node.args if plain_text(arg)]
        found += [
            ast.unparse(keyword.value)
            for keyword in node.keywords
            if keyword.arg in SHOWN_KEYWORDS and plain_text(keyword.value)
        ]
    return found


def our_modules() -> list[Path]:
    base = Path(settings.BASE_DIR)
    return sorted(
        path
        for app in APPS
        for path in (base / app).rglob("*.py")
        # Left in English: operators' commands and the REST API's own messages (DRF's
        # are translated).
        if not {"migrations", "management"} & set(path.parts)
        and path.name not in ("api.py", "serializers.py")
    )


def test_the_python_guard_finds_untranslated_text():
    assert untranslated_python('messages.success(request, f"Saved {name}.")')
    assert untranslated_python('forms.CharField(label="Mobile number")')
    assert untranslated_python('raise forms.ValidationError("Write a message first.")')
    assert not untranslated_python('messages.success(request, _("Saved %(name)s."))')
    assert not untranslated_python('forms.CharField(label=_("Mobile number"))')


@pytest.mark.parametrize("path", our_modules(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_module_we_own_translates_what_it_shows(path):
    assert untranslated_python(path.read_text(encoding="utf-8")) == [], path
