"""Profiles (rich | published), API keys, and a GUID per webhook subscription.

Existing hooks get their own GUID before the column turns unique: a callable default
on AddField would give every existing row the same one.
"""

import uuid

from django.db import migrations, models


def give_each_hook_a_guid(apps, schema_editor):
    hooks = apps.get_model("sandbox", "WebhookSubscription")
    for hook in hooks.objects.filter(guid__isnull=True).only("pk"):
        hooks.objects.filter(pk=hook.pk).update(guid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("sandbox", "0003_faults"),
    ]

    operations = [
        migrations.AddField(
            model_name="application",
            name="profile",
            field=models.CharField(
                choices=[
                    ("rich", "rich: the sandbox's full objects"),
                    (
                        "published",
                        "published: only what the Swagger promises, as .NET writes it",
                    ),
                ],
                default="rich",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="application",
            name="api_key",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="webhooksubscription",
            name="guid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_hook_a_guid, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="webhooksubscription",
            name="guid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
