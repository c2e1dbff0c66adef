"""Citizens log in with their phone number or their citizen ID number, plus a password."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from .selectors import citizen_account


class PhoneOrIdNumberBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        user = citizen_account(username)
        if user is None:
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
