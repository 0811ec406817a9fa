from django.db import migrations

DEFAULTS = [
    ("beauty", "Beauty", "美妆"), ("fashion", "Fashion", "穿搭"), ("tech", "Tech", "数码"),
    ("parenting", "Parenting", "育儿"), ("food", "Food", "美食"), ("travel", "Travel", "旅行"),
    ("fitness", "Fitness", "健身"), ("home", "Home", "家居"), ("auto", "Auto", "汽车"), ("pets", "Pets", "宠物"),
    ("books", "Books", "读书"), ("gaming", "Gaming", "游戏"),
]


def create(apps, schema_editor):
    Vertical = apps.get_model("experts", "Vertical")
    for position, (slug, en, zh) in enumerate(DEFAULTS):
        Vertical.objects.get_or_create(slug=slug, defaults={"name_en": en, "name_zh": zh, "position": position})


class Migration(migrations.Migration):
    dependencies = [("experts", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
