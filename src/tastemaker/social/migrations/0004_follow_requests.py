# Follow requests to locked accounts, and the follow_request notification type.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import tastemaker.core.ids


class Migration(migrations.Migration):

    dependencies = [
        ('social', '0003_drop_redundant_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='notification',
            name='type',
            field=models.CharField(choices=[('follow', 'followed you'), ('follow_request', 'asked to follow you'), ('favourite', 'liked your post'), ('reblog', 'reposted your post'), ('mention', 'mentioned you')], max_length=16),
        ),
        migrations.CreateModel(
            name='FollowRequest',
            fields=[
                ('id', models.BigIntegerField(default=tastemaker.core.ids.new_id, editable=False, primary_key=True, serialize=False)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('follower', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='follow_requests_made', to=settings.AUTH_USER_MODEL)),
                ('target', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='follow_requests_received', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(fields=['target', '-id'], name='social_followreq_target_id')],
                'constraints': [models.UniqueConstraint(fields=('follower', 'target'), name='social_followrequest_unique')],
            },
        ),
    ]
