"""What campaigns tells the rest of the product about campaigns.

Sent inside the transaction that makes the change, after it is written, so a
receiver's own rows commit or roll back with it; work outside the database belongs in
`transaction.on_commit`. Campaigns does not know who listens.
"""

from datetime import datetime

from django.dispatch import Signal

from campaigns.models import Campaign, CampaignStatus

# A campaign finished: every call settled (status FINISHED, finished_at set).
# sender=Campaign, campaign=<Campaign as it is now>
campaign_finished = Signal()


def announce_finished(campaign_ids: list[int], finished_at: datetime) -> None:
    """campaign_finished for each of these campaigns that the UPDATE marking them finished
    at `finished_at` did finish (it re-tests its condition, so some may have stayed
    running). Call it in that UPDATE's transaction."""
    finished = Campaign.objects.filter(
        pk__in=campaign_ids, status=CampaignStatus.FINISHED, finished_at=finished_at
    )
    for campaign in finished.order_by("pk"):
        campaign_finished.send(sender=Campaign, campaign=campaign)
