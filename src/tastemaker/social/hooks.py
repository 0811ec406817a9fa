"""Social's hook points (``core.hooks``): the apps above social react to these; social imports none of them.
The consumers are listed in ``settings.HOOKS``."""

from tastemaker.core.hooks import HookPoint

post_created = HookPoint("social.post_created", "post=: a post or a repost was written (inside its transaction).")
post_deleted = HookPoint("social.post_deleted", "post=: a post or repost is about to be deleted (inside the "
                          "transaction, before the row goes: its tags and reposts can still be read).")
notified = HookPoint("social.notified", "notification=: a notification was created (inside the transaction).")
followed = HookPoint("social.followed", "follower_id=, target_id=: a follow was made (granted, not requested).")
unfollowed = HookPoint("social.unfollowed", "follower_id=, target_id=: a follow ended (inside the transaction).")
blocked = HookPoint("social.blocked", "account_id=, target_id=: account blocked target (inside the transaction).")
engaged = HookPoint("social.engaged", "kind= ('like', 'repost' or 'reply'), post_id=, actor_id=, owner_id=: "
                    "an interaction with someone's post (inside the transaction).")
files_in_use = HookPoint("social.files_in_use", "paths=: returns the subset of these stored image files that "
                         "something still shows (the sweep keeps them).")
rule_offence = HookPoint(
    "social.rule_offence",
    "user=, kind= ('flooding', 'mass_mention', 'mass_reply', 'spam' or 'keyword_stuffing'), detail= (a short "
    "text), text= (the offending text): the rules caught an offence (social.rules), called once per account "
    "and kind within RULES_OFFENCE_ONCE_SECONDS, before the refusal is raised (outside the post's transaction).")
post_held = HookPoint(
    "social.post_held",
    "post=, reasons= (list of str), score= (float): the spam filter held a new post or reply for review (inside "
    "its transaction; it is not fanned out until do_release_post).")
direct_message = HookPoint(
    "social.direct_message",
    "post=, recipients= (list of User: the accounts it reached, in the inbox or the message requests; not the "
    "author, not one who declined): a direct message was written (inside its transaction; a message held by the "
    "spam filter calls it when an operator releases it).")
