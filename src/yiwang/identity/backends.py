"""Citizens log in with their phone number or their citizen ID number, plus a password."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from yiwang.core.ids import is_citizen_id, normalize
from yiwang.core.sm import blind_index

from .models import User


class PhoneOrIdNumberBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        value = normalize(username)
        user = None
        if is_citizen_id(value):
            user = User.objects.filter(person__id_digest=blind_index(value)).first()
        elif value.isdigit() and len(value) == 11:
            user = User.objects.filter(phone=value).order_by("id").first()
        if user is None:
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
