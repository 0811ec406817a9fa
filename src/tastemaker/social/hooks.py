"""Social's hook points (``core.hooks``): the apps above social react to these; social imports none of them.
The consumers are listed in ``settings.HOOKS``."""

from tastemaker.core.hooks import HookPoint

post_created = HookPoint("social.post_created", "post=: a post or a repost was written (inside its transaction).")
followed = HookPoint("social.followed", "follower_id=, target_id=: a follow was made (granted, not requested).")
unfollowed = HookPoint("social.unfollowed", "follower_id=, target_id=: a follow ended (inside the transaction).")
blocked = HookPoint("social.blocked", "account_id=, target_id=: account blocked target (inside the transaction).")
engaged = HookPoint("social.engaged", "kind= ('like', 'repost' or 'reply'), post_id=, actor_id=, owner_id=: "
                    "an interaction with someone's post (inside the transaction).")
files_in_use = HookPoint("social.files_in_use", "paths=: returns the subset of these stored image files that "
                         "something still shows (the sweep keeps them).")
