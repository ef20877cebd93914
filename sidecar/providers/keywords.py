"""What an inbound SMS means: Twilio's incoming-message webhook, classified (DESIGN.md §10).

The webhook is a form POST with `From`, `To`, `Body`, `MessageSid`, … and, when the sender
uses Twilio Advanced Opt-Out, `OptOutType` (`STOP`, `START` or `HELP`). When that field is
present it decides, because Twilio matched the message against the sender's own keyword
lists (which may be in other languages); otherwise the trimmed, case-insensitive body is
compared with Twilio's standard keywords. The opt-out service (sidecar/opt_outs.py) acts on
the class alone, as the engine does on `Outcome`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

BODY_SHOWN_MAX = 40  # characters of the body quoted in a reason or a log line


class InboundKind(StrEnum):
    OPT_OUT = "opt_out"  # never text this number again
    OPT_IN = "opt_in"    # the sender takes back an earlier opt-out
    HELP = "help"        # asks for help: Twilio (or the sender's auto-reply) answers; logged
    OTHER = "other"      # any other message: logged and ignored


# Twilio's standard keywords (twilio.com/docs/messaging/tutorials/advanced-opt-out).
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT",
                           "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
OPT_OUT_TYPES = {"STOP": InboundKind.OPT_OUT, "START": InboundKind.OPT_IN,
                 "HELP": InboundKind.HELP}


@dataclass(frozen=True)
class InboundMessage:
    """One inbound SMS as the webhook described it, with its class and why."""

    kind: InboundKind
    sender: str       # `From` as received (Twilio sends E.164)
    to: str
    body: str
    message_sid: str
    decided_by: str   # e.g. "OptOutType STOP", "keyword STOP", "no keyword"

    @property
    def shown_body(self) -> str:
        """The body for a reason or a log line: trimmed, one line, at most 40 characters."""
        text = " ".join(self.body.split())
        return text if len(text) <= BODY_SHOWN_MAX else text[:BODY_SHOWN_MAX - 1] + "…"


def body_keyword(body: str) -> InboundKind:
    """The class of a message body alone: exactly one standard keyword, in any case, with
    blanks around it; anything else (a sentence, other scripts) is OTHER."""
    word = body.strip()
    if not word.isascii():  # str.upper() maps a few non-ASCII letters onto ASCII ones
        return InboundKind.OTHER
    word = word.upper()
    if word in OPT_OUT_WORDS:
        return InboundKind.OPT_OUT
    if word in OPT_IN_WORDS:
        return InboundKind.OPT_IN
    if word in HELP_WORDS:
        return InboundKind.HELP
    return InboundKind.OTHER


def classify_inbound(form: Mapping[str, str]) -> InboundMessage:
    """Classify the webhook's form fields (missing ones read as empty)."""
    body = form.get("Body") or ""
    opt_out_type = (form.get("OptOutType") or "").strip().upper()
    if opt_out_type:
        kind = OPT_OUT_TYPES.get(opt_out_type, InboundKind.OTHER)
        decided_by = f"OptOutType {opt_out_type[:20]}"
    else:
        kind = body_keyword(body)
        decided_by = ("no keyword" if kind is InboundKind.OTHER
                      else f"keyword {body.strip().upper()}")
    return InboundMessage(kind, (form.get("From") or "").strip(), (form.get("To") or "").strip(),
                          body, (form.get("MessageSid") or form.get("SmsSid") or "").strip(),
                          decided_by)
