"""Settings for Yiwang, read from the environment with safe development defaults.

Production sets at least DEBUG=0, SECRET_KEY, YIWANG_KEK, DATABASE_URL, REDIS_URL and ALLOWED_HOSTS
(docs/operations.md). With DEBUG=0 the platform refuses to start on the development secrets.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("YIWANG_DATA_DIR", Path.cwd() / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", True)
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
# Key-encryption key for SM4 at-rest encryption (32 hex chars = 16 bytes). The development default
# is derived from SECRET_KEY so that a demo works with no set-up; production must set its own.
YIWANG_KEK = os.environ.get("YIWANG_KEK", "")
# While the KEK is rotated (docs/operations.md, "Keys"): the old key(s), read only, and the key of the
# blind indexes, which stays the same across rotations (set it to the first KEK before the first one).
YIWANG_KEK_PREVIOUS = os.environ.get("YIWANG_KEK_PREVIOUS", "")
YIWANG_INDEX_KEY = os.environ.get("YIWANG_INDEX_KEY", "")


def production_problems(secret_key: str, kek: str) -> list[str]:
    """What keeps these secrets from running in production (DEBUG=0); empty when they are fine."""
    problems = []
    if secret_key == DEV_SECRET_KEY or len(secret_key) < 32:
        problems.append("SECRET_KEY 未设置或太短（至少 32 个字符，每个部署不同）")
    if not kek:
        problems.append("YIWANG_KEK 未设置（32 位十六进制，SM4 加密身份证号和私钥用；务必另行备份）")
    else:
        try:
            if len(bytes.fromhex(kek)) != 16:
                raise ValueError
        except ValueError:
            problems.append("YIWANG_KEK 应为 32 位十六进制字符（16 字节）")
    return problems


if not DEBUG and (_problems := production_problems(SECRET_KEY, YIWANG_KEK)):
    # refuse to start: a production site on the development secrets is readable by anyone with the source
    raise ImproperlyConfigured("DEBUG=0（生产环境）但：" + "；".join(_problems) + "。见 docs/operations.md。")
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
# Our reverse proxies (addresses or networks, comma-separated): only from them is X-Forwarded-For
# believed (yiwang.core.http.client_ip). Empty: no proxy, the header is ignored.
YIWANG_TRUSTED_PROXIES = os.environ.get("YIWANG_TRUSTED_PROXIES", "")
try:
    [ipaddress.ip_network(part.strip(), strict=False) for part in YIWANG_TRUSTED_PROXIES.split(",") if part.strip()]
except ValueError as _exc:
    raise ImproperlyConfigured(f"YIWANG_TRUSTED_PROXIES 应为逗号分隔的地址或网段：{_exc}") from None
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "huey.contrib.djhuey",
    "yiwang.identity.apps.AxesConfig",
    "yiwang.core",
    "yiwang.identity",
    "yiwang.catalog",
    "yiwang.cases",
    "yiwang.licences",
    "yiwang.portal",
    "yiwang.api",
]

MIDDLEWARE = [
    # first: its line has the status and duration of everything below, redirects to HTTPS included
    "yiwang.core.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "yiwang.portal.middleware.ChineseFirstLocaleMiddleware",
    "yiwang.portal.middleware.RequestSizeMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "yiwang.identity.sessions.StaffIdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "yiwang.portal.middleware.PortalErrorPageMiddleware",
    # last, as axes requires: turns a refused login into its 429 answer (portal.views.errors.locked_out)
    "axes.middleware.AxesMiddleware",
]
# an expired or foreign form: the portal's Chinese page (JSON under /api/), not Django's English one
CSRF_FAILURE_VIEW = "yiwang.portal.views.errors.csrf_failure"

# Content-Security-Policy (django-csp): scripts, styles, images and fonts from this site only, never
# inline — the templates carry no <script>/<style> blocks, style= attributes or on…= handlers; an
# inline script that must stay takes the request's nonce (csp_nonce), which adds 'nonce-…' here.
# data: images are the icons that the Swagger UI and the admin's stylesheets embed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"  # stricter than strict-origin-when-cross-origin: no referrer leaves the site
SECURE_CONTENT_TYPE_NOSNIFF = True

ROOT_URLCONF = "yiwang.urls"
WSGI_APPLICATION = "yiwang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yiwang.portal.context.portal_links",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'yiwang.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the worker and the web process share the file; a busy timeout instead of "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
    # Transactions take the write lock when they begin: a writer that read first and then wants to write
    # would otherwise fail at once with "database is locked" instead of waiting (and then seeing a 409).
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = [
    # first: refuses a locked account or address before any password is checked (identity/lockout.py)
    "axes.backends.AxesStandaloneBackend",
    "yiwang.identity.backends.PhoneOrIdNumberBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login lock-out (django-axes, identity/lockout.py): failures within the window, per account (whatever
# identifier was typed) and per address; a success clears the account's. docs/operations.md.
YIWANG_LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("YIWANG_LOGIN_FAILURES_PER_ACCOUNT", "5"))
YIWANG_LOGIN_FAILURES_PER_ADDRESS = int(os.environ.get("YIWANG_LOGIN_FAILURES_PER_ADDRESS", "30"))
YIWANG_LOGIN_LOCKOUT_MINUTES = int(os.environ.get("YIWANG_LOGIN_LOCKOUT_MINUTES", "15"))
AXES_FAILURE_LIMIT = YIWANG_LOGIN_FAILURES_PER_ACCOUNT
AXES_COOLOFF_TIME = timedelta(minutes=YIWANG_LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "yiwang.core.http.client_ip"
AXES_USERNAME_CALLABLE = "yiwang.identity.lockout.account_key"
AXES_HANDLER = "yiwang.identity.lockout.LoginAttempts"
AXES_LOCKOUT_CALLABLE = "yiwang.portal.views.errors.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up line on every command
AXES_ENABLE_ADMIN = False  # the Chinese admin of identity/admin.py instead
AXES_COOLOFF_MESSAGE = _("登录失败次数过多，请稍后再试。")
AXES_PERMALOCK_MESSAGE = AXES_COOLOFF_MESSAGE
# never written into the attempts' copy of the submitted form
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "id_number", "phone", "name", "address"]

# Password reset by SMS code (identity/services.py): the code's lifetime, wrong tries per code,
# codes per number and hour.
YIWANG_RESET_CODE_MINUTES = int(os.environ.get("YIWANG_RESET_CODE_MINUTES", "10"))
YIWANG_RESET_CODE_ATTEMPTS = int(os.environ.get("YIWANG_RESET_CODE_ATTEMPTS", "5"))
YIWANG_RESET_CODES_PER_HOUR = int(os.environ.get("YIWANG_RESET_CODES_PER_HOUR", "5"))

# Sessions (identity/sessions.py): everyone's ends SESSION_COOKIE_AGE seconds after it was last
# written (default 8 hours); a staff session also when the browser closes and after
# YIWANG_STAFF_IDLE_MINUTES without a request. Logging out deletes the session on the server.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
YIWANG_STAFF_IDLE_MINUTES = int(os.environ.get("YIWANG_STAFF_IDLE_MINUTES", "30"))

LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:home"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# project-wide assets (vendored htmx, the favicon) live beside the settings, not in an app
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("YIWANG_STATIC_ROOT", DATA_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it, even before collectstatic
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("YIWANG_MEDIA_ROOT", DATA_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Uploads: materials and import workbooks. Checked again by content in the services.
YIWANG_MAX_UPLOAD_BYTES = int(os.environ.get("YIWANG_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = YIWANG_MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# CJK font embedded in every PDF (Debian package fonts-wqy-zenhei).
YIWANG_CJK_FONT = os.environ.get("YIWANG_CJK_FONT", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")

# Edges of systems that are not ours: console/dev backends by default.
YIWANG_NOTIFIER = os.environ.get("YIWANG_NOTIFIER", "yiwang.core.notify.ConsoleNotifier")
YIWANG_PAYMENT_PROVIDER = os.environ.get("YIWANG_PAYMENT_PROVIDER", "yiwang.cases.payments.DevPaymentProvider")
YIWANG_PUBLIC_URL = os.environ.get("YIWANG_PUBLIC_URL", "http://127.0.0.1:8000")

REDIS_URL = os.environ.get("REDIS_URL", "")
# The cache holds throttle counters (progress-query guessing): with several app servers it must be
# shared, so production uses Redis; the development default is per process.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
if REDIS_URL:
    # sessions read from the shared cache, written through to the database: one query less on every
    # signed-in request, and a logout or expiry seen by every app server at once
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "yiwang",
        "url": REDIS_URL,
        "immediate": False,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "yiwang",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        "immediate": False,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
if env_bool("YIWANG_HUEY_IMMEDIATE", False):
    HUEY["immediate"] = True

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "yiwang.api.schema.AutoSchema",
    # JSON bodies through the one depth-limited parse of client JSON (core/jsonin.py)
    "DEFAULT_PARSER_CLASSES": [
        "yiwang.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    # Basic first: an anonymous call is answered 401 with its WWW-Authenticate challenge (DRF takes the
    # header from the first class; the session one has none and would make it a 403)
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "yiwang.api.authentication.BasicAuthentication",
        "yiwang.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "EXCEPTION_HANDLER": "yiwang.api.errors.exception_handler",
    "DEFAULT_FILTER_BACKENDS": [],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "一网 Yiwang API",
    "DESCRIPTION": "政务服务事项目录、办件、电子证照的开放接口 (REST)。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # one name per choice set shared by several serializers (and a clean `yiwang check --deploy`)
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "yiwang.cases.models.Status",
        "DeliveryMethodEnum": "yiwang.cases.models.DeliveryMethod",
        "StageKindEnum": "yiwang.catalog.models.Stage.Kind",
        "ItemVersionStatusEnum": "yiwang.catalog.models.ItemVersion.Status",
    },
}

# Logs: JSON lines (python-json-logger), ID numbers and phone numbers masked by a filter on every
# handler; to the console by default, to a file rotated at midnight and kept YIWANG_LOG_RETENTION_DAYS
# days (six months by default: level-3 protection keeps logs at least that long), and/or to syslog
# (docs/operations.md, "Logs").
YIWANG_LOG_FILE = os.environ.get("YIWANG_LOG_FILE", "")
YIWANG_LOG_SYSLOG = os.environ.get("YIWANG_LOG_SYSLOG", "")
YIWANG_LOG_RETENTION_DAYS = int(os.environ.get("YIWANG_LOG_RETENTION_DAYS", "183"))


def syslog_address(value: str) -> str | tuple[str, int]:
    """A socket path (/dev/log) or host[:port] (UDP, port 514 by default)."""
    if value.startswith("/"):
        return value
    host, _sep, port = value.rpartition(":") if ":" in value else (value, "", "")
    return host, int(port or 514)


_log_output = {"formatter": "json", "filters": ["mask_personal_data"]}
_log_handlers: dict = {"console": {"class": "logging.StreamHandler", **_log_output}}
if YIWANG_LOG_FILE:
    _log_handlers["file"] = {
        "class": "logging.handlers.TimedRotatingFileHandler",
        "filename": YIWANG_LOG_FILE,
        "when": "midnight",
        "backupCount": YIWANG_LOG_RETENTION_DAYS,
        "encoding": "utf-8",
        **_log_output,
    }
if YIWANG_LOG_SYSLOG:
    _log_handlers["syslog"] = {
        "class": "logging.handlers.SysLogHandler",
        "address": syslog_address(YIWANG_LOG_SYSLOG),
        "facility": os.environ.get("YIWANG_LOG_SYSLOG_FACILITY", "local0"),
        **_log_output,
    }
LOG_OUTPUTS = [h for h in ("file", "syslog") if h in _log_handlers] or ["console"]

# error reports mask the posted personal data (core/reporting.py)
DEFAULT_EXCEPTION_REPORTER_FILTER = "yiwang.core.reporting.PersonalDataFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_personal_data": {"()": "yiwang.core.logs.MaskPersonalData"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "json_ensure_ascii": False,
        }
    },
    "handlers": _log_handlers,
    "root": {"handlers": LOG_OUTPUTS, "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # a handler of its own keeps the huey consumer from adding a second one (doubled lines)
        "huey": {"handlers": LOG_OUTPUTS, "level": os.environ.get("HUEY_LOG_LEVEL", "WARNING"), "propagate": False},
    },
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    # TLS ends at the reverse proxy (nginx), which must set X-Forwarded-Proto itself
    if env_bool("TLS_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # HSTS: browsers come back over HTTPS only, for a year by default. Django sends the header on
    # HTTPS answers only, so a site on plain HTTP (docs/operations.md, "Without TLS") is unaffected.
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    # the preload list takes only a policy that covers the subdomains
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_INCLUDE_SUBDOMAINS)
