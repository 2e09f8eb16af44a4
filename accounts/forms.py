from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import Role


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
