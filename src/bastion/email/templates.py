"""Email bodies, kept as package data in ``bastion/templates/email``."""

from __future__ import annotations

import functools
import html
from importlib import resources
from string import Template

from bastion.email.message import EmailMessage

__all__ = ["render"]


@functools.cache
def _template(name: str) -> Template:
    folder = resources.files("bastion.templates").joinpath("email")
    return Template(folder.joinpath(name).read_text("utf-8"))


def render(kind: str, to: str, subject: str, **values: str) -> EmailMessage:
    """Fill ``<kind>.txt`` and ``<kind>.html`` with ``values`` (HTML-escaped in the HTML part)."""
    text = _template(f"{kind}.txt").substitute(values)
    escaped = {k: html.escape(v, quote=True) for k, v in values.items()}
    body = _template(f"{kind}.html").substitute(escaped)
    return EmailMessage(to=to, subject=subject, text=text, html=body, kind=kind)
