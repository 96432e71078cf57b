"""JUnit XML for CI test reporters (GitLab's merge-request widget, Jenkins' ``junit``).

One ``<testsuite>`` per run, one ``<testcase classname="xent.gates">`` per gate with a
``<failure type="GateFailed">`` when it failed, and ``<properties>`` holding the
signature, the loss and ``n_samples``; a run with no gates is one passing testcase
(``score`` or ``compare``) so reporters never say "no tests found". The shape is the
one pytest writes and validates against ``junit-10.xsd`` (ECOSYSTEM 2.3). ElementTree
escapes ``&<>"``; characters XML 1.0 cannot hold at all (most C0 controls) are dropped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from ..comparison import Comparison
from ..summary import GateResult, Summary

CLASSNAME = "xent.gates"
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""What XML 1.0 refuses even escaped; surrogates cannot reach here from UTF-8 text."""


@dataclass(frozen=True)
class Case:
    """One testcase: a gate's name and, when it failed, why."""

    name: str
    failure: str | None = None
    detail: str = ""


def xml_text(text: str) -> str:
    """``text`` without the characters XML cannot carry.

    >>> xml_text("a\\x00b\\x1bc\\td")
    'abc\\td'
    """
    return _ILLEGAL.sub("", text)


def to_junit(
    suite: str, cases: Sequence[Case], properties: Sequence[tuple[str, str]], default: str
) -> str:
    """The JUnit document; ``default`` names the one passing testcase of a run with no
    gates."""
    cases = list(cases) or [Case(default)]
    failures = sum(case.failure is not None for case in cases)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": "0"}
    root = ET.Element("testsuites", {"name": "xent", **counts, "time": "0"})
    node = ET.SubElement(
        root, "testsuite", {"name": xml_text(suite), **counts, "skipped": "0", "time": "0"}
    )
    props = ET.SubElement(node, "properties")
    for name, value in properties:
        ET.SubElement(props, "property", {"name": name, "value": xml_text(value)})
    for case in cases:
        element = ET.SubElement(
            node, "testcase", {"classname": CLASSNAME, "name": xml_text(case.name), "time": "0"}
        )
        if case.failure is not None:
            failure = ET.SubElement(
                element, "failure", {"type": "GateFailed", "message": xml_text(case.failure)}
            )
            failure.text = xml_text(case.detail or case.failure)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def gate_cases(gates: Sequence[GateResult], messages: Sequence[str | None]) -> list[Case]:
    """A testcase per gate; a failed one carries its message (the gate's failure line)."""
    cases = []
    for gate, message in zip(gates, messages, strict=True):
        if gate.passed:
            cases.append(Case(gate.name))
            continue
        text = message or f"{gate.name} failed"
        detail = f"gate {gate.name}: value {gate.value!r}, threshold {gate.threshold!r}"
        cases.append(Case(gate.name, text, detail))
    return cases


def summary_junit(summary: Summary, messages: Sequence[str | None] | None = None) -> str:
    """``xent score``'s JUnit: ``messages[i]`` says why ``summary.gates[i]`` failed."""
    said = list(messages) if messages is not None else [None] * len(summary.gates)
    preds = summary.inputs.get("preds") or "-"
    properties = [
        ("signature", summary.signature),
        ("loss", repr(summary.loss)),
        ("n_samples", str(summary.n_samples)),
        ("xent_version", summary.xent_version),
    ]
    return to_junit(f"xent score {preds}", gate_cases(summary.gates, said), properties, "score")


def comparison_junit(comparison: Comparison, messages: Sequence[str | None] | None = None) -> str:
    """``xent compare``'s JUnit; the loss and ``n_samples`` are NEW's."""
    said = list(messages) if messages is not None else [None] * len(comparison.gates)
    new = comparison.new
    base_name = comparison.base.inputs.get("preds") or "BASE"
    new_name = new.inputs.get("preds") or "NEW"
    properties = [
        ("signature", comparison.signature),
        ("loss", repr(new.loss)),
        ("n_samples", str(new.n_samples)),
        ("base_loss", repr(comparison.base.loss)),
        ("xent_version", comparison.xent_version),
    ]
    suite = f"xent compare {base_name} {new_name}"
    return to_junit(suite, gate_cases(comparison.gates, said), properties, "compare")
