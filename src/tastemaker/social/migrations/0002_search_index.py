from django.db import migrations

from tastemaker.social.search import create_index, drop_index


class Migration(migrations.Migration):
    dependencies = [("social", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
