"""Fuzz requests and their reproduction as a curl command that never holds a secret.

The API key appears only as `${VAR}` (the target's `api_key_env`, else `PHINITE_API_KEY`) and
a Jira signature is recomputed in the command from `${PHINITE_JIRA_SECRET}` (or the target's
`jira_secret_env`). The body is piped through `printf` with octal escapes, so every byte
(invalid UTF-8 included) is sent exactly. An `Authorization` value derived from the key in a
way a shell word cannot rebuild (truncated, case-swapped, look-alike, base64) is replaced by a
placeholder naming the variant; so is an `X-Hub-Signature` value holding a SHA-256 digest that
is not this body's signature (it may be another body's, made with the secret: redacted like a
key). A fault that shows only after several requests (a start, a clock
move, then the poll) is reproduced by `curl_sequence`, which carries the run id from one
request to the next in a shell variable.
"""

from __future__ import annotations

import base64
import binascii
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from .._exceptions import HarnessError
from .._models import Endpoint
from .._targets import Target

__all__ = [
    "DEFAULT_KEY_VAR",
    "DEFAULT_SECRET_VAR",
    "MOCK_REPRO_BASE_URL",
    "FuzzRequest",
    "FuzzStep",
    "curl_command",
    "curl_sequence",
    "reveals",
]

DEFAULT_KEY_VAR: Final = "PHINITE_API_KEY"
DEFAULT_SECRET_VAR: Final = "PHINITE_JIRA_SECRET"  # noqa: S105 - a variable's name
MOCK_REPRO_BASE_URL: Final = "http://127.0.0.1:8080"
_PRINTABLE: Final = frozenset(range(0x20, 0x7F)) - {ord("'"), ord("%"), ord("\\")}
_TOKEN: Final = re.compile(r"[A-Za-z0-9+/=_-]{8,}")
_DIGEST: Final = re.compile(r"[0-9a-fA-F]{64}")
"""A SHA-256 digest in hex: what a Jira signature made with some secret holds."""
_AUTH_NAME_VAR: Final = "auth_header"
_SIGNATURE_NAME_VAR: Final = "signature_header"
_HEADER_NAMES: Final = f"{_AUTH_NAME_VAR}=Authorization {_SIGNATURE_NAME_VAR}=X-Hub-Signature"
_WORKFLOW_ID_OF: Final = (
    "python3 -c 'import json, sys; print(json.load(sys.stdin)[\"workflow_id\"])'"
)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class FuzzRequest:
    """One request a property sends, as much as a reproduction needs.

    Args:
        endpoint: the endpoint aimed at (None for a path that is none of them).
        method: the HTTP method.
        url: the full URL.
        body: the exact body bytes.
        content_type: the Content-Type header, None for none.
        auth: True sends the target's key, False no Authorization, a string that exact value.
        auth_description: what a string `auth` is (an `AuthVariant` description).
        jira_signature: the `X-Hub-Signature` value sent, None for none.
        jira_signed: True when `jira_signature` is the right HMAC of `body` (recomputed).
    """

    endpoint: Endpoint | None
    method: str
    url: str
    body: bytes = b""
    content_type: str | None = None
    auth: bool | str = True
    auth_description: str | None = None
    jira_signature: str | None = None
    jira_signed: bool = False

    def headers(self) -> dict[str, str]:
        """The headers besides Authorization: Content-Type and X-Hub-Signature when set."""
        headers = {} if self.content_type is None else {"Content-Type": self.content_type}
        if self.jira_signature is not None:
            headers["X-Hub-Signature"] = self.jira_signature
        return headers

    def __repr__(self) -> str:
        if isinstance(self.auth, bool):
            auth = "the key" if self.auth else "none"
        else:
            auth = self.auth_description or "another value"
        head = self.body[:80]
        more = f"...<{len(self.body)} bytes>" if len(self.body) > len(head) else ""
        return (
            f"FuzzRequest({self.method} {self.url}, auth={auth}, "
            f"content_type={self.content_type!r}, body={head!r}{more})"
        )


def _printf_format(body: bytes, secrets: Mapping[str, str]) -> tuple[str, list[str]]:
    """A printf format (single-quoted) and its `"${VAR}"` arguments writing exactly `body`."""
    pattern = b"|".join(re.escape(value.encode()) for value in secrets) if secrets else None
    pieces = re.split(b"(" + pattern + b")", body) if pattern else [body]
    by_value = {value.encode(): var for value, var in secrets.items()}
    out: list[str] = []
    args: list[str] = []
    for piece in pieces:
        if piece in by_value:
            out.append("%s")
            args.append(f'"${{{by_value[piece]}}}"')
            continue
        for byte in piece:
            if byte in _PRINTABLE:
                out.append(chr(byte))
            elif byte == ord("%"):
                out.append("%%")
            elif byte == ord("\\"):
                out.append("\\\\")
            else:
                out.append(f"\\{byte:03o}")
    return "'" + "".join(out) + "'", args


def _shell_word(text: str, secrets: Mapping[str, str]) -> str:
    """`text` as one shell word, each secret value replaced by `"${VAR}"`."""
    if not secrets:
        return shlex.quote(text)
    pattern = "(" + "|".join(re.escape(value) for value in secrets) + ")"
    parts = [part for part in re.split(pattern, text) if part]
    word = "".join(f'"${{{secrets[p]}}}"' if p in secrets else shlex.quote(p) for p in parts)
    return word or "''"


def reveals(text: str, secret: str) -> bool:
    """True when `text` shows `secret` or enough of it: half of it in any case, or base64 of it.

    Args:
        text: what would be printed.
        secret: the value that must not be shown.
    """
    if not secret:
        return False
    lowered, folded = text.lower(), secret.lower()
    window = max(4, len(secret) // 2)
    if any(folded[i : i + window] in lowered for i in range(len(folded) - window + 1)):
        return True
    for token in _TOKEN.findall(text):
        try:
            decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=False)
        except (binascii.Error, ValueError):
            continue
        if secret.encode() in decoded:
            return True
    return False


def _authorization(request: FuzzRequest, key: str | None, key_var: str) -> list[str]:
    if request.auth is True:
        return ["-H", f'"${{{_AUTH_NAME_VAR}}}: Bearer ${{{key_var}}}"']
    if request.auth is False:
        return []
    secrets = {key: key_var} if key else {}
    value = str(request.auth)
    rest = re.sub("|".join(re.escape(s) for s in secrets), "", value) if secrets else value
    if key and reveals(rest, key):
        what = request.auth_description or "a value derived from the key"
        value = f"<{what}: build it from ${key_var}>"
    return ["-H", _named_header(_AUTH_NAME_VAR, value, secrets)]


def _named_header(name_var: str, value: str, secrets: Mapping[str, str]) -> str:
    """`"${name_var}": value` as one shell word.

    Credential headers are named through a shell variable: report redaction blanks any
    `Authorization: <token>` text, which would also blank the `${VAR}` placeholders.
    """
    return f'"${{{name_var}}}"' + _shell_word(f": {value}", secrets)


def _url(request: FuzzRequest, target: Target) -> str:
    if target.embedded and request.url.startswith(target.base_url):
        return MOCK_REPRO_BASE_URL + request.url[len(target.base_url) :]
    return request.url


def _secrets(target: Target) -> tuple[dict[str, str], str | None, str, str]:
    """`{secret value: variable}`, the key, and the key's and the Jira secret's variables."""
    key = target.api_key.reveal() if target.api_key is not None else None
    secret = target.jira_secret.reveal() if target.jira_secret is not None else None
    key_var = target.api_key_env or DEFAULT_KEY_VAR
    secret_var = target.jira_secret_env or DEFAULT_SECRET_VAR
    secrets = {value: var for value, var in ((key, key_var), (secret, secret_var)) if value}
    return secrets, key, key_var, secret_var


def _request_lines(
    request: FuzzRequest, target: Target, variables: Mapping[str, str], capture: str | None
) -> list[str]:
    """The lines sending `request`; `variables` maps URL text to shell variables, `capture`
    names the variable that keeps the answer's `workflow_id`."""
    secrets, key, key_var, secret_var = _secrets(target)
    url = _shell_word(_url(request, target), {**variables, **secrets})
    words = ["curl", "-sS", "-X", request.method, url]
    if request.content_type is not None:
        words += ["-H", _shell_word(f"Content-Type: {request.content_type}", secrets)]
    words += _authorization(request, key, key_var)
    lines: list[str] = []
    if request.jira_signature is not None:
        if request.jira_signed:
            digest = (
                f'openssl dgst -sha256 -hmac "${{{secret_var}}}" -r < "$body" | cut -d " " -f 1'
            )
            words += ["-H", f'"${{{_SIGNATURE_NAME_VAR}}}: sha256=$({digest})"']
        else:
            value = _signature_shown(request.jira_signature, secret_var)
            words += ["-H", _named_header(_SIGNATURE_NAME_VAR, value, secrets)]
    if request.body or request.method == "POST":
        form, args = _printf_format(request.body, secrets)
        printf = " ".join(["printf", form, *args])
        lines.append(f'body="$(mktemp)" && {printf} > "$body" && \\')
        words += ["--data-binary", '@"$body"']
    command = " ".join(words)
    if capture is not None:
        command = f'{capture}="$({command} | {_WORKFLOW_ID_OF})"'
    lines.append(command)
    return lines


def _signature_shown(value: str, secret_var: str) -> str:
    """An `X-Hub-Signature` value as a reproduction may show it: a placeholder when it holds
    a SHA-256 digest (possibly a valid signature of another body), else the value itself."""
    if _DIGEST.search(value) is None:
        return value
    return f"<a sha256 signature, not shown: compute it with ${secret_var}>"


@dataclass(frozen=True, slots=True, kw_only=True)
class FuzzStep:
    """One request of a sequence that shows a fault, and the run id its answer named.

    Args:
        request: the request sent.
        workflow_id: the `workflow_id` its answer gave (a start's), for later steps to use.
    """

    request: FuzzRequest
    workflow_id: str | None = None


def curl_sequence(steps: Sequence[FuzzStep], target: Target) -> str:
    """Shell commands sending `steps` again, in order; secrets appear only as `${VAR}`.

    A run id a start answered is kept in a shell variable (`workflow_id_1`, ...) and used by
    the later steps whose URL names it, so the replay follows the run it starts. For the
    embedded mock the URLs point at `trigger-mock serve --port 8080`.

    Args:
        steps: the requests, first to last (a start, a clock move, the poll that fails).
        target: the target they went to (its key and Jira secret are never written).

    Raises:
        HarnessError: a command would show a secret (never expected; refused, not written).
    """
    if not steps:
        raise HarnessError("a reproduction needs at least one request")
    lines: list[str] = []
    if target.embedded:
        lines.append("# first: trigger-mock serve --port 8080")
    lines.append(f"{_HEADER_NAMES} && \\")
    variables: dict[str, str] = {}
    for index, step in enumerate(steps):
        later = " ".join(other.request.url for other in steps[index + 1 :])
        known = step.workflow_id is None or step.workflow_id in variables
        wanted = not known and str(step.workflow_id) in later
        capture = f"workflow_id_{len(variables) + 1}" if wanted else None
        step_lines = _request_lines(step.request, target, variables, capture)
        if index < len(steps) - 1:
            step_lines[-1] += " && \\"
        lines.extend(step_lines)
        if capture is not None and step.workflow_id is not None:
            variables[step.workflow_id] = capture
    command = "\n".join(lines)
    for value in _secrets(target)[0]:
        if value in command:
            raise HarnessError("a reproduction command would show a secret; refusing to write it")
    return command


def curl_command(request: FuzzRequest, target: Target) -> str:
    """A shell command sending `request` again; secrets appear only as `${VAR}`.

    For the embedded mock the URL points at `trigger-mock serve --port 8080`.

    Args:
        request: the request to reproduce.
        target: the target it went to (its key and Jira secret are never written).
    """
    return curl_sequence([FuzzStep(request=request)], target)
