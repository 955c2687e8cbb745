"""Sending alert e-mails over SMTP: STARTTLS, then authentication, then the
period's messages over one connection."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from alerts.config import AlertSettings
from alerts.digest import Mail


class MailError(RuntimeError):
    pass


class SmtpMailer:
    def __init__(self, settings: AlertSettings):
        if settings.smtp_host is None or settings.smtp_from is None:
            raise ValueError("SmtpMailer needs smtp_host and smtp_from")
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.sender = settings.smtp_from
        self.user = settings.smtp_user
        self.password = settings.smtp_password()  # read once, at start-up
        self.starttls = settings.smtp_starttls
        self.timeout = settings.smtp_timeout_s
        self.context = ssl.create_default_context(
            cafile=str(settings.smtp_ca_file) if settings.smtp_ca_file else None
        )

    def message(self, mail: Mail) -> EmailMessage:
        # Long lines (up to RFC 5322's 998): the standard folder would break a
        # subject that starts with "[" right after "Subject:", and readers then
        # show it with a leading space.
        msg = EmailMessage(policy=policy.SMTP.clone(max_line_length=998))
        msg["From"] = self.sender
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain=self.sender.rsplit("@", 1)[-1])
        msg.set_content(mail.body)
        msg["Content-Language"] = mail.lang  # after set_content, which resets Content-*
        return msg

    def send(self, mails: Sequence[Mail]) -> None:
        """Send all of ``mails``; raises ``MailError`` when the server cannot be
        reached or refuses (the caller keeps them for the next period)."""
        if not mails:
            return
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=self.context)
                    smtp.ehlo()
                if self.user:
                    smtp.login(self.user, self.password or "")
                for mail in mails:
                    smtp.send_message(self.message(mail))
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(
                f"sending alert e-mail via {self.host}:{self.port} failed: {exc}"
            ) from exc
