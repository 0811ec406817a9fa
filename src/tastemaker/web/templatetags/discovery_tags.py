"""Template helpers for ability labels, badges and who-to-follow (used on profiles and the home page)."""

from __future__ import annotations

from django import template

from tastemaker.experts import selectors as experts

register = template.Library()


@register.filter
def reason_for(label) -> str:
    return experts.reason_text(label)


@register.inclusion_tag("web/_profile_labels.html", takes_context=True)
def profile_labels(context, account):
    user = context.get("user")
    labels = experts.visible_labels(account)
    samples = experts.sample_posts(labels)
    return {"labels": [(lab, experts.reason_text(lab), samples.get(lab.pk, [])) for lab in labels],
            "badges": experts.badges(account),
            "own": bool(user and user.is_authenticated and user.pk == account.pk)}
