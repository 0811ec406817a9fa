from django.db import models

from tastemaker.social.models import Post


class TimelineEntry(models.Model):
    """One post in one viewer's home timeline (id-only; hydrated on read).

    Unique per (viewer, post) and written with insert-or-ignore, so any fan-out can be re-run.
    ``author_id`` is the poster (the reposter for a repost), kept to remove entries on unfollow/block.
    """

    id = models.BigAutoField(primary_key=True)
    viewer_id = models.BigIntegerField()
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="timeline_entries")
    author_id = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["viewer_id", "post"], name="feeds_entry_viewer_post")]
        indexes = [
            models.Index(fields=["viewer_id", "author_id"], name="feeds_entry_viewer_author"),
        ]


class FanoutProgress(models.Model):
    """Where a post's fan-out has got to (last follower id done), so a killed job resumes."""

    post = models.OneToOneField(Post, on_delete=models.CASCADE, primary_key=True, related_name="+")
    cursor = models.BigIntegerField(default=0)
    done = models.BooleanField(default=False)
