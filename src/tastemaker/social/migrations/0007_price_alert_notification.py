from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("social", "0006_direct_messages"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notification",
            name="type",
            field=models.CharField(choices=[("follow", "followed you"), ("follow_request", "asked to follow you"),
                                            ("favourite", "liked your post"), ("reblog", "reposted your post"),
                                            ("mention", "mentioned you"),
                                            ("price_alert", "has a price alert for you")], max_length=16),
        ),
    ]
