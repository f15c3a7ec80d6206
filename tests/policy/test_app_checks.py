"""Django settings checks read from the syntax tree."""

import textwrap

from policies.app_checks import check_settings


def findings(tmp_path, source, name="settings.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return {(f.rule_id, f.setting) for f in check_settings(path)}


def test_inherited_cors_allow_all_is_found_in_production(tmp_path):
    found = findings(tmp_path, """
        class Base:
            INSTALLED_APPS = []
            CORS_ORIGIN_ALLOW_ALL = True
        class Production(Base):
            DEBUG = False
    """)
    assert ("RAE-APP-001", "CORS_ORIGIN_ALLOW_ALL") in found
    assert not any(rule == "RAE-APP-002" for rule, _ in found)


def test_production_override_clears_the_base_value(tmp_path):
    found = findings(tmp_path, """
        class Base:
            INSTALLED_APPS = []
            CORS_ALLOW_ALL_ORIGINS = True
        class Production(Base):
            CORS_ALLOW_ALL_ORIGINS = False
        class Development(Base):
            DEBUG = True
    """)
    assert not any(rule in ("RAE-APP-001", "RAE-APP-002") for rule, _ in found)


def test_environment_defaults_are_read(tmp_path):
    found = findings(tmp_path, """
        import os
        INSTALLED_APPS = []
        DEBUG = env.bool("DEBUG", default=True)
        STRIPE_API_KEY = os.environ.get("STRIPE_API_KEY", "sk_test_default")
        DB_PASSWORD_FILE = "/run/secrets/db"
        BROKER = {"ssl_cert_reqs": ssl.CERT_NONE}
    """)
    assert {("RAE-APP-002", "DEBUG"), ("RAE-APP-010", "STRIPE_API_KEY"), ("RAE-APP-008", "ssl_cert_reqs")} <= found
    assert ("RAE-APP-010", "DB_PASSWORD_FILE") not in found


def test_hardened_module_is_clean(tmp_path):
    assert findings(tmp_path, """
        import os
        INSTALLED_APPS = ["allauth"]
        DEBUG = False
        SECURE_SSL_REDIRECT = True
        SECURE_HSTS_SECONDS = 63072000
        SESSION_COOKIE_SECURE = True
        CSRF_COOKIE_SECURE = True
        ACCOUNT_EMAIL_VERIFICATION = "mandatory"
        REST_AUTH = {"JWT_AUTH_HTTPONLY": True}
        API_URL = "https://api.internal"
        ALLOWED_HOSTS = ["127.0.0.1"]
        OPENAI_API_KEY = os.environ["OPENAI_API_KEY"]
    """) == set()


def test_not_a_settings_module(tmp_path):
    assert findings(tmp_path, "DEBUG = True\nURL = 'http://x'\n", name="tool.py") == set()


def test_split_settings_inherit_what_the_base_module_left_open(tmp_path):
    package = tmp_path / "settings"
    package.mkdir()
    (package / "base.py").write_text('SECRET_KEY = "x" * 0 or None\nCORS_ORIGIN_ALLOW_ALL = True\nREDIS = "rediss://r:6380/0"\n')
    (package / "production.py").write_text("from .base import *\nDEBUG = False\nBROKER = f'{REDIS}?ssl_cert_reqs=none'\n")
    found = list(check_settings(package / "production.py", "settings/production.py"))
    cors = [f for f in found if f.rule_id == "RAE-APP-001"]
    assert cors and cors[0].file == "settings/base.py" and "inherited by settings/production.py" in cors[0].message
    broker = [f for f in found if f.rule_id == "RAE-APP-008"]
    assert broker and broker[0].file == "settings/production.py" and "rediss://r:6380/0" in broker[0].setting


def test_concatenation_is_folded(tmp_path):
    found = findings(tmp_path, 'SECRET_KEY = None\nBASE = "rediss://r:6380/0"\nURL = BASE + "?ssl_cert_reqs=" + "none"\n')
    assert any(rule == "RAE-APP-008" for rule, _ in found)


def test_a_module_with_django_security_settings_is_a_settings_module(tmp_path):
    found = findings(tmp_path, 'ALLOWED_HOSTS = ["x"]\nDEBUG = True\n', name="prod_config.py")
    assert ("RAE-APP-002", "DEBUG") in found


def test_an_f_string_is_reported_once_as_the_text_it_builds(tmp_path):
    path = tmp_path / "settings.py"
    path.write_text('REDIS = "rediss://r:6380/0"\nBROKER = f"{REDIS}?ssl_cert_reqs=none"\n')
    found = [f for f in check_settings(path) if f.rule_id == "RAE-APP-008"]
    assert [f.setting for f in found] == ["rediss://r:6380/0"]


def test_an_f_string_service_url_is_read_as_http(tmp_path):
    found = findings(tmp_path, 'SECRET_KEY = None\nHOST = "search.internal"\nSEARCH_URL = f"http://{HOST}/api"\n')
    assert ("RAE-APP-009", "http://search.internal/api") in found


def statuses(tmp_path, source, name="config.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return {(f.rule_id, f.setting, f.status) for f in check_settings(path)}


def test_pydantic_settings_defaults_fail_and_unresolvable_ones_are_unknown(tmp_path):
    found = statuses(tmp_path, """
        from pydantic import Field, SecretStr
        from pydantic_settings import BaseSettings
        TOKEN_PREFIX = "sk-"

        class Settings(BaseSettings):
            openai_api_key: str = "sk-default-key"
            qdrant_api_key: SecretStr = SecretStr("changeme")
            jwt_secret: str = Field(default=TOKEN_PREFIX + "dev")
            db_password: str = Field(default_factory=make_password)
            admin_token: str = Field(...)
            webhook_secret: str | None = None
            embedder_url: str = "http://embedder.internal:8080"
            qdrant_host: str = "10.20.0.7"

        class ProductionSettings(Settings):
            signing_key: str = load_key()
    """)
    assert {("RAE-APP-010", "openai_api_key", "failed"), ("RAE-APP-010", "qdrant_api_key", "failed"),
            ("RAE-APP-010", "jwt_secret", "failed"), ("RAE-APP-010", "db_password", "unknown"),
            ("RAE-APP-010", "signing_key", "unknown"), ("RAE-APP-011", "10.20.0.7", "failed")} <= found
    assert ("RAE-APP-009", "http://embedder.internal:8080", "failed") in found
    assert not {setting for _rule, setting, _status in found} & {"admin_token", "webhook_secret"}


def test_environment_defaults_outside_django_are_judged(tmp_path):
    found = statuses(tmp_path, """
        import os
        API_KEY = os.environ.get("MEMORY_API_KEY", "dev-api-key")
        SECRET = os.getenv("SESSION_SECRET", default=os.urandom(16).hex())
        QDRANT_URL = os.environ.get("QDRANT_URL", "http://qdrant:6333")
        LOG_LEVEL = os.environ.get("LOG_LEVEL", "info")
    """, name="app_config.py")
    assert ("RAE-APP-010", "MEMORY_API_KEY", "failed") in found
    assert ("RAE-APP-010", "SESSION_SECRET", "unknown") in found
    assert ("RAE-APP-009", "http://qdrant:6333", "failed") in found
    assert not any(setting == "LOG_LEVEL" for _rule, setting, _status in found)


def test_careful_config_module_is_clean(tmp_path):
    assert statuses(tmp_path, """
        import os
        from pathlib import Path
        from pydantic_settings import BaseSettings

        class Settings(BaseSettings):
            api_key_file: Path = Path("/run/secrets/api-key")
            qdrant_api_key: str
            qdrant_url: str = "https://qdrant.internal:6333"
            webhook_secret: str | None = None

        LOG_LEVEL = os.environ.get("LOG_LEVEL", "info")
        TOKEN = os.environ.get("MEMORY_TOKEN", "")
        SSH_KEY = os.environ.get("NODE_SSH_KEY", "~/.ssh/id_ed25519")
    """) == set()


def test_a_module_that_configures_nothing_is_not_judged(tmp_path):
    assert statuses(tmp_path, """
        SERVICE = "http://example.internal"
        API_KEY = "not a config module, bandit and the secret scan judge this file"
    """, name="client.py") == set()
