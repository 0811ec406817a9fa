# The app's first migration: empty, so the directory and the deals can each add theirs on top of it.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies: list[tuple[str, str]] = []
    operations: list[migrations.operations.base.Operation] = []
