"""The worked example of docs/lift.md: 1,000 recipients of `spring`, every tenth held out.

900 treated, 72 of whom convert (8 %; 40 of them clicked the campaign's email first); 100 held
out, 5 of whom convert (5 %). Noise the outcome must ignore: conversions before the send and
after the 7-day window, and a user who was never sent anything.
"""

from __future__ import annotations

from pathlib import Path

SEND = "2024-03-01T10:00:00Z"
HEADER = "user_id,timestamp,type,channel,source,medium,campaign,value\n"


def write_example(folder: Path, *, held_out_text: str = "true") -> tuple[Path, Path]:
    sends = ["recipient,campaign,message,sent_at,held_out"]
    events: list[str] = []
    treated = [f"u{i:04d}" for i in range(1000) if i % 10]
    held = [f"u{i:04d}" for i in range(1000) if not i % 10]
    for user in treated:
        sends.append(f"{user},spring,welcome,{SEND},false")
    for user in held:
        sends.append(f"{user},spring,welcome,{SEND},{held_out_text}")
    for user in treated[:40]:
        events.append(f"{user},2024-03-01T11:00:00Z,touch,email,newsletter,email,spring,")
    for user in treated[:72]:
        events.append(f"{user},2024-03-02T09:00:00Z,conversion,,,,,25.00")
    for user in held[:5]:
        events.append(f"{user},2024-03-03T09:00:00Z,conversion,,,,,25.00")
    # Not outcomes: before the send, after the window, a stranger.
    events.append(f"{treated[100]},2024-02-20T09:00:00Z,conversion,,,,,25.00")
    events.append(f"{held[50]},2024-03-09T10:00:01Z,conversion,,,,,25.00")
    events.append("stranger,2024-03-02T09:00:00Z,conversion,,,,,25.00")
    # The data runs past every recipient's window.
    events.append("stranger,2024-03-12T00:00:00Z,touch,direct,(direct),(none),,")
    sends.append("u9999,autumn,other,2024-03-01T10:00:00Z,false")
    sends_path, events_path = folder / "sends.csv", folder / "events.csv"
    sends_path.write_text("\n".join(sends) + "\n", encoding="utf-8")
    events_path.write_text(HEADER + "\n".join(events) + "\n", encoding="utf-8")
    return sends_path, events_path
