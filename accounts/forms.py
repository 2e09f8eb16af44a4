from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, TeamPolicy


class NoColonForm(forms.Form):
    """Labels as written ("Email", not Django's default "Email:"), as on every other form."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class InviteForm(NoColonForm):
    email = forms.EmailField(label=_("Email"), max_length=254)
    name = forms.CharField(
        label=_("Name"),
        max_length=150,
        required=False,
        help_text=_("Optional: they can change it when they accept."),
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=Role.choices,
        initial=Role.AGENT,
        help_text=_("Agents work the inbox and contacts; admins also manage the team, "
                    "settings and campaigns."),
    )  # fmt: skip


class RoleForm(NoColonForm):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class AcceptInvitationForm(UserCreationForm):
    """Username and password (twice, through Django's password validators, which also
    compare it with the name, username and email)."""

    name = forms.CharField(label=_("Your name"), max_length=150, required=False)
    field_order = ["name", "username", "password1", "password2"]

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("name", "username")

    def __init__(self, *args, invitation, **kwargs):
        first, _space, last = invitation.name.partition(" ")
        user = get_user_model()(email=invitation.email, first_name=first, last_name=last)
        kwargs.setdefault("initial", {}).setdefault("name", invitation.name)
        kwargs.setdefault("label_suffix", "")  # as NoColonForm
        super().__init__(*args, instance=user, **kwargs)

    def _post_clean(self):
        # The similarity validator compares the password with the name as typed.
        first, _space, last = self.cleaned_data.get("name", "").partition(" ")
        self.instance.first_name, self.instance.last_name = first, last
        super()._post_clean()


class CodeForm(NoColonForm):
    """A code from the authenticator app (6 digits) or a recovery code."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


class TurnOffTwoFactorForm(NoColonForm):
    code = forms.CharField(
        label=_("A code from your app, or a recovery code"), max_length=32, required=False
    )
    password = forms.CharField(
        label=_("Or your password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean(self):
        data = super().clean()
        if not data.get("code") and not data.get("password"):
            raise forms.ValidationError(_("Enter a current code or your password."))
        return data


class SecurityPolicyForm(forms.ModelForm):
    class Meta:
        model = TeamPolicy
        fields = ["require_two_factor", "agents_may_export", "agents_may_bulk_tag"]
        help_texts = {
            "require_two_factor": _(
                "Everyone without it is asked to set it up right after signing in, and "
                "can do nothing else until they have."
            ),
            "agents_may_export": _("Off: only admins can download contacts as CSV."),
            "agents_may_bulk_tag": _(
                "Off: only admins can add or remove a tag on many contacts at once."
            ),
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
