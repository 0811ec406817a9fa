"""A commission keeps the id and time of the click that earned it, and no longer protects the click row: a
post whose click earned a commission can be deleted (its card, links and click-outs go with it)."""

import django.db.models.deletion
from django.db import migrations, models


def fill(apps, schema_editor):
    Commission = apps.get_model("showcase", "Commission")
    ClickOut = apps.get_model("showcase", "ClickOut")
    pending = list(Commission.objects.filter(click_id__isnull=True).values_list("pk", "click_out_id"))
    times = dict(ClickOut.objects.filter(pk__in={c for _pk, c in pending}).values_list("pk", "created_at"))
    for pk, click in pending:
        Commission.objects.filter(pk=pk).update(click_id=click, clicked_at=times.get(click))


class Migration(migrations.Migration):

    dependencies = [
        ('showcase', '0003_card_image_size'),
    ]

    operations = [
        migrations.RenameField(
            model_name='commission',
            old_name='click',
            new_name='click_out',
        ),
        migrations.AlterField(
            model_name='commission',
            name='click_out',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='commissions', to='showcase.clickout'),
        ),
        migrations.AddField(
            model_name='commission',
            name='click_id',
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name='commission',
            name='clicked_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
