from django.db import migrations, models


def numbers_to_text(apps, schema_editor):
    """Hook ids become text; "no hook" becomes the empty text."""
    endpoints = apps.get_model("messaging", "WebhookEndpoint").objects
    for kind in ("inbound", "outbound"):
        endpoints.filter(**{f"{kind}_hook_id__isnull": True}).update(**{f"{kind}_hook_id": ""})


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0006_webhook_event_applied_later"),
    ]

    operations = [
        migrations.AlterField(
            model_name="webhookendpoint",
            name="inbound_hook_id",
            field=models.CharField(blank=True, max_length=200, null=True),
        ),
        migrations.AlterField(
            model_name="webhookendpoint",
            name="outbound_hook_id",
            field=models.CharField(blank=True, max_length=200, null=True),
        ),
        migrations.RunPython(numbers_to_text, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="webhookendpoint",
            name="inbound_hook_id",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name="webhookendpoint",
            name="outbound_hook_id",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="inbound_hook_location",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="outbound_hook_location",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="previous_tokens",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="stale_hook_ids",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="webhookevent",
            name="apply_note",
            field=models.CharField(blank=True, max_length=500),
        ),
    ]
