from django.db import models


class RateBucket(models.Model):
    """One slice of a sliding rate-limit window: hits of ``key`` in time slice ``bucket``."""

    key = models.CharField(max_length=120)
    bucket = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "bucket"], name="trust_ratebucket_key_bucket")]
