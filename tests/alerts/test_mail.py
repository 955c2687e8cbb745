"""Alert e-mails through a real SMTP server (aiosmtpd) with STARTTLS and
AUTH, in the recipient's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.config import AlertSettings
from alerts.digest import Digest, compose
from alerts.evaluate import Transition
from alerts.mail import MailError, SmtpMailer
from alerts.rules import Kind, Recipient, Rule
from core.registry import Registry, load_site
from tests.alerts.smtp import USER, smtp_server
from tests.api.conftest import SMALL_SITE

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SITE = load_site(SMALL_SITE)
REGISTRY = Registry({SITE.id: SITE})

RULE = Rule(
    id="silent",
    kind=Kind.SENSOR_SILENT,
    threshold=600,
    notify=[
        Recipient(email="fm@example.org", lang="fi"),
        Recipient(email="ops@example.org", lang="en"),
    ],
)


def transitions() -> list[tuple[Transition, Rule]]:
    fired = [
        Transition("fired", "silent", "pieni", s, T0, 900, "aa", {"space": s, "floor": "f1"})
        for s in ("a1", "a2")
    ]
    back = Transition("resolved", "silent", "pieni", "b1", T0 + timedelta(minutes=3), 4)
    return [(t, RULE) for t in [*fired, back]]


def settings(server, **kw: object) -> AlertSettings:  # type: ignore[no-untyped-def]
    base = {
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port,
        "smtp_user": USER,
        "smtp_password_file": server.password_file,
        "smtp_ca_file": server.ca_file,
        "smtp_from": "occupancy@example.org",
        "smtp_timeout_s": 5,
    }
    return AlertSettings(**{**base, **kw})  # type: ignore[arg-type]


def test_digest_mails_arrive_over_starttls_with_auth_in_each_language(tmp_path: Path) -> None:
    mails = compose(transitions(), registry=REGISTRY, start=T0, end=T0 + timedelta(minutes=5))
    with smtp_server(tmp_path) as server:
        SmtpMailer(settings(server)).send(mails)
        got = server.wait_for(2)
    assert all(r.tls and r.login == USER for r in got)
    by_to = {r.rcpt[0]: r.message for r in got}
    assert set(by_to) == {"fm@example.org", "ops@example.org"}
    fi, en = by_to["fm@example.org"], by_to["ops@example.org"]
    # two firings and one resolution, in the site's name (Pieni toimisto: no translation)
    assert fi["Subject"] == "[Käyttöaste] Pieni toimisto: 2 uutta hälytystä, 1 poistunut"
    assert en["Subject"] == "[Occupancy] Pieni toimisto: 2 new alerts, 1 resolved"
    assert fi["Content-Language"] == "fi" and fi["From"] == "occupancy@example.org"
    fi_body, en_body = fi.get_content(), en.get_content()
    assert fi_body.count("HÄLYTYS: Anturi vaiti") == 2 and "POISTUNUT: Anturi vaiti: b1" in fi_body
    assert "arvo 900 s" in fi_body and "2026-03-02 08:00–2026-03-02 08:05" in fi_body
    assert en_body.count("FIRING: Sensor silent") == 2 and "RESOLVED: Sensor silent: b1" in en_body
    assert "Sensor" not in fi_body and "Anturi" not in en_body


def test_a_wrong_password_or_an_untrusted_certificate_is_a_mail_error(tmp_path: Path) -> None:
    mails = compose(transitions(), registry=REGISTRY, start=T0, end=T0)
    with smtp_server(tmp_path) as server:
        wrong = tmp_path / "wrong"
        wrong.write_text("nope")
        with pytest.raises(MailError, match="failed"):
            SmtpMailer(settings(server, smtp_password_file=wrong)).send(mails)
        other_ca = tmp_path / "other-ca.pem"
        import trustme

        trustme.CA().cert_pem.write_to_path(str(other_ca))
        with pytest.raises(MailError, match="CERTIFICATE_VERIFY_FAILED"):
            SmtpMailer(settings(server, smtp_ca_file=other_ca)).send(mails)
        assert server.received == []


def test_smtp_settings_refuse_a_password_without_tls_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="smtp_starttls must be true"):
        AlertSettings(
            smtp_host="h",
            smtp_from="a@b.fi",
            smtp_user="u",
            smtp_password_file=tmp_path / "p",
            smtp_starttls=False,
        )
    with pytest.raises(ValueError, match="smtp_password_file is required"):
        AlertSettings(smtp_host="h", smtp_from="a@b.fi", smtp_user="u")
    missing = AlertSettings(
        smtp_host="h", smtp_from="a@b.fi", smtp_user="u", smtp_password_file=tmp_path / "none"
    )
    with pytest.raises(ValueError, match="cannot read smtp_password_file"):
        missing.smtp_password()


def test_a_digest_period_opens_with_its_first_transition() -> None:
    digest = Digest(period_s=300)
    entries = transitions()
    digest.add([], {"silent": RULE}, now=T0)
    assert digest.start is None and not digest.due(T0 + timedelta(hours=1))
    digest.add([entries[0][0]], {"silent": RULE}, now=T0 + timedelta(seconds=10))
    digest.add([entries[1][0]], {"silent": RULE}, now=T0 + timedelta(seconds=200))
    assert not digest.due(T0 + timedelta(seconds=309))
    assert digest.due(T0 + timedelta(seconds=310))
    start, taken = digest.take()
    assert start == T0 + timedelta(seconds=10) and len(taken) == 2 and digest.start is None
