"""The English catalog is complete, consistent and in step with the source.

The UI's source strings are Italian; English comes from
translations/en/LC_MESSAGES/messages.po. If a test here fails after you added
or changed an Italian string, refresh the catalog and translate what is new:

    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k _ \\
        -o translations/messages.pot --ignore-dirs='.venv tests benchmarks' .
    .venv/bin/pybabel update -i translations/messages.pot -d translations -l en
    # write the msgstr of each new entry, drop "#, fuzzy", then
    .venv/bin/pybabel compile -d translations --statistics
"""
from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
BABEL_CFG = ROOT / "babel.cfg"
# The same options the Makefile and the docs give to `pybabel extract`.
KEYWORDS = {**DEFAULT_KEYWORDS, **parse_keywords(["_l", "lazy_gettext", "_"])}
IGNORED_DIRS = (".venv", "tests", "benchmarks")

# %(name)s, %(num)d, %(amount).2f ...
PLACEHOLDER = re.compile(r"%\([^)]+\)[#0 +\-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def _forms(value) -> tuple[str, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return (value,)


def _placeholders(text: str | None) -> set[str]:
    return set(PLACEHOLDER.findall(text or ""))


def _label(msgid) -> str:
    return " | ".join(_forms(msgid))


@pytest.fixture(scope="module")
def catalog():
    with CATALOG.open("rb") as f:
        return read_po(f, locale="en")


def _entries(catalog):
    return [m for m in catalog if m.id]  # skip the header


def test_catalog_has_entries(catalog):
    assert _entries(catalog), f"{CATALOG} holds no messages"


def test_every_entry_is_translated_and_not_fuzzy(catalog):
    untranslated = [_label(m.id) for m in _entries(catalog) if not all(_forms(m.string))]
    fuzzy = [_label(m.id) for m in _entries(catalog) if m.fuzzy]
    assert not untranslated, "Untranslated in messages.po:\n  " + "\n  ".join(untranslated)
    assert not fuzzy, "Marked fuzzy in messages.po (check, then remove the flag):\n  " + "\n  ".join(fuzzy)


def test_placeholders_match(catalog):
    wrong = []
    for m in _entries(catalog):
        ids = _forms(m.id)
        for index, text in enumerate(_forms(m.string)):
            # msgstr[0] is the singular; every later form answers the msgid_plural.
            source = ids[min(index, len(ids) - 1)]
            if text and _placeholders(text) != _placeholders(source):
                wrong.append(f"{source!r} -> {text!r}: "
                             f"{sorted(_placeholders(source))} != {sorted(_placeholders(text))}")
    assert not wrong, "Placeholders differ between msgid and msgstr:\n  " + "\n  ".join(wrong)


def _keep_directory(dirpath: str) -> bool:
    name = os.path.basename(os.path.normpath(dirpath))
    if name.startswith((".", "_")):  # pybabel's default: .git, __pycache__ ...
        return False
    return not any(fnmatch.fnmatch(name, pattern) for pattern in IGNORED_DIRS)


def _extract_from_source():
    with BABEL_CFG.open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, filename=str(BABEL_CFG))
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=_keep_directory,
    ):
        found.setdefault((message, context), []).append(f"{filename}:{lineno}")
    return found


def test_every_source_string_is_in_the_catalog(catalog):
    extracted = _extract_from_source()
    assert extracted, "nothing extracted: is babel.cfg still the extraction config?"
    missing = []
    for (message, context), where in sorted(extracted.items(), key=lambda item: item[1][0]):
        msgid = _forms(message)[0]
        entry = catalog.get(msgid, context=context)
        if entry is None:
            missing.append(f"{_label(message)!r}  ({', '.join(where)})")
        elif isinstance(message, (tuple, list)) and not entry.pluralizable:
            missing.append(f"{_label(message)!r}  ({', '.join(where)}): catalog has no plural form")
    assert not missing, (
        f"{len(missing)} source string(s) not in translations/en/LC_MESSAGES/messages.po "
        "(run pybabel extract + update and translate them):\n  " + "\n  ".join(missing)
    )
