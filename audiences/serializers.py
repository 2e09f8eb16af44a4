"""The segments API's serializer: conditions are validated by audiences.conditions."""

from rest_framework import serializers

from audiences import conditions
from audiences.models import Segment
from txtcrm.api import StrictSerializerMixin


class SegmentSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    conditions = serializers.JSONField(
        help_text='The conditions, version 1: {"version": 1, "match": "all"|"any", '
        '"conditions": [{"field", "op", "value"}, ...]} (docs/segments.md).'
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Segment
        fields = ["id", "name", "description", "conditions", "created_by", "created_at",
                  "updated_at"]  # fmt: skip
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Give the segment a name.")
        return value.strip()

    def validate_conditions(self, value) -> dict:
        try:
            return conditions.validate(value)
        except conditions.SegmentInvalid as error:
            raise serializers.ValidationError(error.errors) from error


class SegmentCountSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Visible contacts in the segment now.")
