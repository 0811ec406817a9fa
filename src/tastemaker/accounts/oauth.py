from oauth2_provider.oauth2_validators import OAuth2Validator


class Validator(OAuth2Validator):
    """Lets the password grant take an e-mail address or a username (Mastodon clients send e-mail)."""

    def validate_user(self, username, password, client, request, *args, **kwargs):
        from django.contrib.auth import authenticate

        user = authenticate(request=None, username=username, password=password)
        if user is not None and user.is_active and not user.is_suspended:
            request.user = user
            return True
        return False

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        allowed = set(client.scopes.split()) | {"read", "write", "follow", "push", "profile"}
        expanded = {s.split(":")[0] for s in scopes}
        return expanded <= allowed
