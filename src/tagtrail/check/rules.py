"""The checks: pure rules over a chain of hops (no I/O; `redirects.py` gathers the hops)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tagtrail.check.results import Check, Hop
from tagtrail.check.utm import fragment_utms

#: Total chain time above which `timing` warns and fails (the mlz CLI's thresholds).
TIMING_WARN_MS = 1500.0
TIMING_FAIL_MS = 3000.0
#: A certificate expiring within this many days makes `ssl` warn.
EXPIRY_WARN_DAYS = 14


@dataclass(frozen=True, slots=True)
class ChainEnd:
    """How the walk stopped, beyond what the hops themselves say."""

    loop_to: int | None = None  # 1-based hop number a redirect pointed back to
    too_many: bool = False
    max_hops: int = 10


def _names(names: Sequence[str]) -> str:
    return ", ".join(names)


def resolution(hops: Sequence[Hop], end: ChainEnd) -> Check:
    last = hops[-1]
    n = len(hops)
    if last.error is not None:
        return Check("resolution", "fail", f"hop {n} failed: {last.error}")
    if end.loop_to is not None or end.too_many:
        return Check("resolution", "fail", "the chain never reached a final page")
    assert last.status is not None
    if last.redirect == "javascript":
        return Check(
            "resolution",
            "warn",
            f"the final page ({last.status}) redirects with JavaScript ({last.location}); "
            "where it leads cannot be verified",
        )
    if 200 <= last.status < 300:
        return Check("resolution", "pass", f"final answer {last.status}")
    if 300 <= last.status < 400:
        return Check("resolution", "fail", f"final answer {last.status} has no usable Location")
    return Check("resolution", "fail", f"final answer {last.status}")


def redirects(hops: Sequence[Hop]) -> Check:
    count = len(hops) - 1
    if count == 0:
        return Check("redirects", "pass", "no redirects")
    if not hops[0].utm:
        return Check("redirects", "pass", f"{count} redirect(s); the link carries no UTMs")
    last = hops[-1]
    for i, hop in enumerate(hops[1:], start=2):
        if hop.utm_lost:
            if last.utm_lost:
                message = f"hop {i} drops {_names(hop.utm_lost)} ({hop.url})"
                return Check("redirects", "fail", message)
            message = f"hop {i} drops {_names(hop.utm_lost)}, a later hop puts them back"
            return Check("redirects", "warn", message)
    for i, hop in enumerate(hops[1:], start=2):
        if hop.utm_changed:
            name, old, new = hop.utm_changed[0]
            return Check("redirects", "warn", f"hop {i} changes {name} from {old!r} to {new!r}")
    return Check("redirects", "pass", f"UTMs preserved through {count} redirect(s)")


def utm_in_final(hops: Sequence[Hop]) -> Check:
    final = dict(hops[-1].utm)
    if not final:
        if hops[0].utm:
            return Check(
                "utm_in_final",
                "fail",
                "the final URL has no UTM parameters: the visit will not be attributed",
            )
        return Check("utm_in_final", "warn", "the link has no UTM parameters")
    missing = [n for n in ("utm_source", "utm_medium") if n not in final]
    if "utm_campaign" not in final and "utm_id" not in final:
        missing.append("utm_campaign")
    if missing:
        return Check("utm_in_final", "warn", f"the final URL lacks {_names(missing)}")
    return Check("utm_in_final", "pass", f"the final URL carries {_names(list(final))}")


def ssl(hops: Sequence[Hop]) -> Check:
    secure = [(i, hop) for i, hop in enumerate(hops, start=1) if hop.tls is not None]
    for i, hop in secure:
        assert hop.tls is not None
        if not hop.tls.cert_valid:
            return Check("ssl", "fail", f"hop {i}: certificate refused: {hop.tls.error}")
    for i, hop in secure:
        assert hop.tls is not None
        days = hop.tls.days_to_expiry
        if days is not None and days < EXPIRY_WARN_DAYS:
            return Check("ssl", "warn", f"hop {i}: certificate expires in {days} day(s)")
    if not secure:
        if hops[-1].url.startswith("http://"):
            return Check("ssl", "warn", "no hop uses HTTPS")
        return Check("ssl", "pass", "no TLS connection was made")
    days_left = [h.tls.days_to_expiry for _, h in secure if h.tls and h.tls.days_to_expiry]
    soonest = f"; the soonest expires in {min(days_left)} days" if days_left else ""
    return Check("ssl", "pass", f"{len(secure)} HTTPS hop(s), certificates valid{soonest}")


def downgrade(hops: Sequence[Hop]) -> Check:
    for i, hop in enumerate(hops, start=1):
        if hop.scheme_change == "https->http":
            return Check("downgrade", "fail", f"hop {i} downgrades HTTPS to HTTP ({hop.url})")
    return Check("downgrade", "pass", "no HTTPS to HTTP downgrade")


def loop(hops: Sequence[Hop], end: ChainEnd) -> Check:
    if end.loop_to is not None:
        message = (
            f"hop {len(hops)} redirects back to hop {end.loop_to} ({hops[end.loop_to - 1].url})"
        )
        return Check("loop", "fail", message)
    return Check("loop", "pass", "no loop")


def max_hops(hops: Sequence[Hop], end: ChainEnd) -> Check:
    if end.too_many:
        message = f"still redirecting after {end.max_hops} redirects (the limit)"
        return Check("max_hops", "fail", message)
    return Check("max_hops", "pass", f"{len(hops) - 1} redirect(s), limit {end.max_hops}")


def fragment(hops: Sequence[Hop]) -> Check:
    for i, hop in enumerate(hops, start=1):
        hidden = fragment_utms(hop.url)
        if hidden:
            message = f"hop {i} has {_names(list(hidden))} in the fragment, which GA4 ignores"
            return Check("fragment", "warn", message)
    if "#" in hops[0].url:
        kept = "#" in hops[-1].url
        note = "kept to the final URL" if kept else "lost on the way"
        return Check("fragment", "pass" if kept else "warn", f"the fragment is {note}")
    return Check("fragment", "pass", "no fragment")


def timing(hops: Sequence[Hop]) -> Check:
    total = sum(hop.elapsed_ms for hop in hops)
    text = f"{total:.0f} ms over {len(hops)} hop(s)"
    if total > TIMING_FAIL_MS:
        return Check("timing", "fail", f"{text} (over {TIMING_FAIL_MS / 1000:g} s)")
    if total > TIMING_WARN_MS:
        return Check("timing", "warn", f"{text} (over {TIMING_WARN_MS / 1000:g} s)")
    return Check("timing", "pass", text)


def evaluate(hops: Sequence[Hop], end: ChainEnd) -> tuple[Check, ...]:
    """Every check, in the order the report lists them."""
    return (
        resolution(hops, end),
        redirects(hops),
        utm_in_final(hops),
        ssl(hops),
        downgrade(hops),
        loop(hops, end),
        max_hops(hops, end),
        fragment(hops),
        timing(hops),
    )
