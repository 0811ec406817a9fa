# Data for 0006 (a migration of its own: PostgreSQL may refuse to alter a table with updates pending).
# Store names get their comparison key (a later store whose name folds to an earlier one's keeps none:
# an operator renames it); commissions paid before stores funded them are marked paid.

from django.db import migrations
from django.db.models import F


def forward(apps, schema_editor):
    from tastemaker.showcase.models import store_name_key

    PartnerStore = apps.get_model("showcase", "PartnerStore")
    Commission = apps.get_model("showcase", "Commission")
    seen = set()
    for store in PartnerStore.objects.order_by("id").only("id", "name"):
        key = store_name_key(store.name) or None
        if key in seen:
            key = None
        seen.add(key)
        PartnerStore.objects.filter(pk=store.pk).update(name_key=key)
    Commission.objects.filter(status="confirmed").exclude(payout_reference="").update(paid_at=F("confirmed_at"))


class Migration(migrations.Migration):

    dependencies = [("showcase", "0006_store_funding")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
