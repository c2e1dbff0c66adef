"""What the case app announces to the apps downstream of it (licences, bundles, supervision).

``case_decided`` is sent once per decision, *after* the deciding transaction commits (never for a
rolled-back one), with ``case`` (the ``cases.Case``) and ``approved`` (bool). Receivers run in their
own transaction; the licence issuer subscribes to it (同步签发).
"""

from django.dispatch import Signal

case_decided = Signal()  # kwargs: case, approved
