"""Accessibility checks for the browser tests: axe-core run inside the sidecar's frame.

`audit(page, "label")` checks the page state the test is looking at right now with the
axe-core that axe-playwright-python ships (rules wcag2a, wcag2aa, wcag21aa, best-practice).
The script is evaluated in the frame through Playwright, so the pages' CSP
(`script-src 'self'`) stays as it is. The shared navigation helpers (`open_admin`,
`reload_admin`, `wait_for_new_document`) audit every page they land on; a test adds a call
for each dialog or in-page state it reaches (an open wizard, a form showing errors).

Violations of impact serious or critical fail the test when its page closes (open_page in
browser_support.py), listing every state at once; moderate and minor ones are listed in the
terminal summary. Every audit is also written to test-artifacts/a11y/<test>.json, and
`python -m tests.a11y_support` prints the counts per page state from those files.

A page added later (settings, reports, scheduling) is checked as soon as a test opens it
through those helpers; name its dialog states with `audit(page, "…")`.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from axe_playwright_python.base import AXE_SCRIPT

if TYPE_CHECKING:
    from playwright.sync_api import Frame, Page

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "test-artifacts" / "a11y"
FRAME = "#bkntc-sms-frame"
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"]
FAILING = ("critical", "serious")
IMPACTS = ("critical", "serious", "moderate", "minor")

# Run axe (injected once per document) on that document only: the outer page's
# iframe is audited on its own (axe would otherwise wait for an answer from inside it).
_RUN = """async (tags) => {
  const result = await window.axe.run(document, {
    runOnly: {type: "tag", values: tags}, resultTypes: ["violations"], iframes: false});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary}))}));
}"""

_STATE = """() => {
  const dialog = document.querySelector("dialog[open]");
  return [document.body ? (document.body.dataset.page || "") : "",
          dialog ? (dialog.id || "dialog") : "", document.title];
}"""


@dataclass
class Violation:
    id: str
    impact: str
    help: str
    targets: list[str]
    summary: str


@dataclass
class StateAudit:
    """One page state and what axe found in it."""

    state: str
    violations: list[Violation]

    def nodes(self, impacts: tuple[str, ...] = IMPACTS) -> int:
        return sum(len(v.targets) for v in self.violations if v.impact in impacts)

    def failing(self) -> list[Violation]:
        return [v for v in self.violations if v.impact in FAILING]


@dataclass
class PageAudits:
    """Every audit of one test's page, in order."""

    test: str
    states: list[StateAudit] = field(default_factory=list)

    def report(self, impacts: tuple[str, ...]) -> str:
        lines = []
        for audit in self.states:
            for v in audit.violations:
                if v.impact not in impacts:
                    continue
                lines.append(f"  [{audit.state}] {v.impact} {v.id}: {v.help} "
                             f"({len(v.targets)}: {', '.join(v.targets[:6])}"
                             f"{' …' if len(v.targets) > 6 else ''})")
                if v.impact in FAILING and v.summary:
                    lines.append("      " + v.summary.replace("\n", "\n      "))
        return "\n".join(lines)


_OPEN: dict[Page, PageAudits] = {}
_DONE: list[PageAudits] = []


def start(page: Page, test: str) -> None:
    """Begin collecting audits for a test's page (open_page calls it)."""
    _OPEN[page] = PageAudits(test)


def finish(page: Page, check: bool) -> None:
    """Stop collecting for `page`, write its report file, and (when `check`) fail with
    every serious or critical violation it met."""
    audits = _OPEN.pop(page, None)
    if audits is None:
        return
    _DONE.append(audits)
    if audits.states:
        REPORTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", audits.test)
        (REPORTS / f"{name}.json").write_text(json.dumps(
            {"test": audits.test, "states": [
                {"state": a.state, "violations": [v.__dict__ for v in a.violations]}
                for a in audits.states]}, indent=1, ensure_ascii=False))
    if check:
        serious = audits.report(FAILING)
        assert not serious, f"accessibility violations (serious or critical):\n{serious}"


def frame_or_page(page: Page) -> Frame:
    """The sidecar's document: the iframe's when the page embeds it, else the page's."""
    handle = page.query_selector(FRAME)
    frame = handle.content_frame() if handle else None
    return frame or page.main_frame


def audit(page: Page, label: str = "", *, outer: bool = False) -> StateAudit:
    """Run axe on what `page` shows now (the sidecar's frame, or the outer page when
    `outer`) and record it under a name made of the page, the open dialog and `label`."""
    target = page.main_frame if outer else frame_or_page(page)
    page_name, dialog, title = target.evaluate(_STATE)
    if outer:
        page_name = "outer page"
    state = " / ".join(p for p in (page_name or title, dialog, label) if p)
    if not target.evaluate("() => !!window.axe"):
        target.evaluate(AXE_SCRIPT)  # Playwright evaluates it as the debugger would: no CSP
    found = target.evaluate(_RUN, RULE_TAGS)
    result = StateAudit(state, [
        Violation(v["id"], v["impact"] or "minor", v["help"],
                  [n["target"] for n in v["nodes"]],
                  next((n["summary"] for n in v["nodes"] if n["summary"]), ""))
        for v in found])
    audits = _OPEN.get(page)
    if audits is not None:
        audits.states.append(result)
    return result


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List the moderate and minor violations the browser tests met (they do not fail)."""
    if not _DONE:
        return
    checked = sum(len(a.states) for a in _DONE)
    terminalreporter.section("accessibility (axe-core)")
    terminalreporter.write_line(f"{checked} page states checked in {len(_DONE)} tests")
    seen: set[tuple[str, str]] = set()
    for audits in _DONE:
        for a in audits.states:
            for v in a.violations:
                if v.impact in FAILING or (a.state, v.id) in seen:
                    continue
                seen.add((a.state, v.id))
                terminalreporter.write_line(
                    f"  {v.impact}: [{a.state}] {v.id} — {v.help} ({len(v.targets)})")


def summarise(directory: Path = REPORTS) -> str:
    """A table of violations per page state (elements, by impact) over every report file:
    the largest count any test saw for that state."""
    worst: dict[str, Counter[str]] = defaultdict(Counter)
    rules: dict[str, set[str]] = defaultdict(set)
    for path in sorted(directory.glob("*.json")):
        for s in json.loads(path.read_text())["states"]:
            counts = Counter()
            for v in s["violations"]:
                counts[v["impact"]] += len(v["targets"])
                rules[s["state"]].add(f"{v['id']}({v['impact'][:4]})")
            seen = worst[s["state"]]
            if sum(counts.values()) >= sum(seen.values()):
                worst[s["state"]] = counts
    lines = [f"{'page state':58} {'crit':>5} {'ser':>5} {'mod':>5} {'min':>5}  rules"]
    for state in sorted(worst):
        c = worst[state]
        lines.append(f"{state[:58]:58} {c['critical']:5} {c['serious']:5} {c['moderate']:5} "
                     f"{c['minor']:5}  {' '.join(sorted(rules[state]))}")
    total = Counter()
    for c in worst.values():
        total.update(c)
    lines.append(f"{'all ' + str(len(worst)) + ' states':58} {total['critical']:5} "
                 f"{total['serious']:5} {total['moderate']:5} {total['minor']:5}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(summarise(Path(sys.argv[1]) if len(sys.argv) > 1 else REPORTS))
