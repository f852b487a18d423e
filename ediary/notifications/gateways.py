"""Where messages leave the server: SMTP for e-mail, SMSAPI (smsapi.pl) for SMS.

A gateway sends one message and returns the provider's id, or raises `SendFailed` saying whether
trying again later may help. Tests run both against local servers (an SMTP server, and a fake
HTTP server speaking SMSAPI's `sms.do`).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

import requests
from smsapi.client import Client as SmsApiClient
from smsapi.exception import EndpointException, SendException


class SendFailed(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class Outgoing:
    to: str
    subject: str
    body: str
    # Stable per queued message: SMSAPI's `idx` (with `check_idx` it refuses a second send) and
    # the e-mail's Message-ID, so a retry after an unknown outcome is recognisably the same one.
    key: str


class Gateway(Protocol):
    def send(self, message: Outgoing) -> str: ...


@dataclass
class SmtpGateway:
    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 20.0

    def send(self, message: Outgoing) -> str:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        domain = self.sender.rsplit("@", 1)[-1] or "localhost"
        mail["Message-ID"] = make_msgid(idstring=message.key, domain=domain)
        mail.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as error:
            raise SendFailed(f"recipient refused: {_codes(error)}", permanent=True) from None
        except smtplib.SMTPResponseException as error:
            # 5xx: the server will not take it (bad address, policy); 4xx: try again later.
            raise SendFailed(f"smtp {error.smtp_code}", permanent=error.smtp_code >= 500) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            raise SendFailed(f"smtp unavailable: {type(error).__name__}", permanent=False) from None
        return str(mail["Message-ID"])


def _codes(error: smtplib.SMTPRecipientsRefused) -> str:
    return ",".join(str(code) for code, _ in error.recipients.values())


# SMSAPI error codes after which the same request can never succeed, from its published list
# ("Kody błędów"): 11 no or too long text, 12 too many parts, 13 no valid number (wrong,
# landline or blacklisted), 14 wrong sender field, 18 wrong parameters, 20 and 27 a wrong idx.
# Others (authorisation, credit, the provider's own trouble) may pass once someone fixes them:
# retried with backoff.
SMSAPI_PERMANENT = frozenset({11, 12, 13, 14, 18, 20, 27})


@dataclass
class SmsApiGateway:
    """SMSAPI through its official client (`smsapi-client`), which takes the API's base URL."""

    url: str
    token: str
    sender: str = ""
    timeout: float = 20.0

    def send(self, message: Outgoing) -> str:
        client = SmsApiClient(self.url if self.url.endswith("/") else self.url + "/", self.token)
        fields = {
            "to": message.to,
            "message": message.body,
            "encoding": "utf-8",
            "idx": message.key,
            "check_idx": 1,  # the provider refuses a second message with the same idx
            "timeout": self.timeout,
        }
        if self.sender:
            fields["from_"] = self.sender
        try:
            result = client.sms.send(**fields)
        except SendException as error:
            code = int(error.code) if str(error.code).isdigit() else 0
            raise SendFailed(f"smsapi error {code}", permanent=code in SMSAPI_PERMANENT) from None
        except EndpointException as error:
            raise SendFailed(f"smsapi http {error.code}", permanent=False) from None
        except requests.RequestException as error:
            raise SendFailed(
                f"smsapi unavailable: {type(error).__name__}", permanent=False
            ) from None
        sent = list(result.results)
        if not sent:
            raise SendFailed("smsapi answered without a message", permanent=False)
        return str(sent[0].id)
