# A migration of its own: PostgreSQL may refuse to alter a table with the previous migration's updates pending.
# Every commission had its click row until now (PROTECT), so 0004 filled both fields.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('showcase', '0004_commission_click_kept'),
    ]

    operations = [
        migrations.AlterField(
            model_name='commission',
            name='click_id',
            field=models.BigIntegerField(),
        ),
        migrations.AlterField(
            model_name='commission',
            name='clicked_at',
            field=models.DateTimeField(),
        ),
    ]
