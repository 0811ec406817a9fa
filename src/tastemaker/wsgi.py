import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tastemaker.settings")
application = get_wsgi_application()

# each web worker loads the labeler's model in a background thread as it starts, so no request waits for it
# (until it is loaded, a post is left unlabelled: tastemaker/experts/labeler.py)
from tastemaker.experts.labeler import warm_up  # noqa: E402

warm_up()
