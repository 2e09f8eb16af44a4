from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import profile, start_pages, two_factor_views, views

urlpatterns = [
    path("", start_pages.home, name="home"),
    path("settings/", start_pages.settings_index, name="settings"),
    # Admins: the team and its invitations.
    path("settings/users/", views.users, name="users"),
    path("settings/users/invite/", views.invite, name="user-invite"),
    path("settings/users/<int:pk>/role/", views.change_role, name="user-role"),
    path("settings/users/<int:pk>/deactivate/", views.deactivate, name="user-deactivate"),
    path("settings/users/<int:pk>/reactivate/", views.reactivate, name="user-reactivate"),
    path("settings/users/<int:pk>/unlock/", views.unlock, name="user-unlock"),
    path(
        "settings/users/<int:pk>/reset-password/",
        views.reset_password,
        name="user-reset-password",
    ),
    path(
        "settings/users/invitations/<int:pk>/resend/",
        views.resend_invitation,
        name="invitation-resend",
    ),
    path(
        "settings/users/invitations/<int:pk>/revoke/",
        views.revoke_invitation,
        name="invitation-revoke",
    ),
    # Two-factor sign-in (accounts/two_factor_views.py): the team policy and a lost phone.
    path("settings/security/", two_factor_views.security_settings, name="security-settings"),
    path(
        "settings/users/<int:pk>/reset-two-factor/",
        two_factor_views.reset_two_factor,
        name="user-reset-two-factor",
    ),
    # Anyone with a link: accept an invitation, set a new password.
    path("invite/<slug:token>/", views.accept_invitation, name="accept-invitation"),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # The signed-in user: their language and API token, their password.
    path("profile/", profile.profile, name="profile"),
    path("profile/password/", views.PasswordChange.as_view(), name="password-change"),
    # Two-factor sign-in: the second step after the password, and the user's own settings.
    path("login/two-factor/", two_factor_views.verify, name="two-factor-verify"),
    path("profile/two-factor/", two_factor_views.manage, name="two-factor"),
    path("profile/two-factor/setup/", two_factor_views.setup, name="two-factor-setup"),
    path("profile/two-factor/codes/", two_factor_views.codes, name="two-factor-codes"),
    path("profile/two-factor/off/", two_factor_views.turn_off, name="two-factor-off"),
]
