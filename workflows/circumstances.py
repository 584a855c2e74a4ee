"""The 17 circumstances of the Modulo Blu (CAI, constatazione amichevole, section 12), in words.

The claim keeps each vehicle's ticked boxes as their numbers ("1,7", as WinCar sends them);
the claim page and the claim letter show them with these wordings, the printed form's own,
always in Italian: they are the words of the form the drivers signed.
"""
from __future__ import annotations

import re

WORDINGS = {
    1: "in fermata / in sosta",
    2: "ripartiva dopo una sosta / apriva una portiera",
    3: "stava parcheggiando",
    4: "usciva da un parcheggio, da un luogo privato, da una strada vicinale",
    5: "entrava in un parcheggio, in un luogo privato, in una strada vicinale",
    6: "si immetteva in una piazza a senso rotatorio",
    7: "circolava su una piazza a senso rotatorio",
    8: "tamponava procedendo nello stesso senso e nella stessa fila",
    9: "procedeva nello stesso senso ma in una fila diversa",
    10: "cambiava fila",
    11: "sorpassava",
    12: "girava a destra",
    13: "girava a sinistra",
    14: "retrocedeva",
    15: "invadeva la sede stradale riservata alla circolazione in senso inverso",
    16: "proveniva da destra",
    17: "non aveva osservato il segnale di precedenza o di semaforo rosso",
}


def numbers(stored: str | None) -> list[int]:
    """The box numbers in a stored value ("1,7", "1 7", "13"), each once, in order; others ignored."""
    found = {int(n) for n in re.findall(r"\d+", stored or "")}
    return sorted(n for n in found if n in WORDINGS)


def in_words(stored: str | None) -> list[str]:
    """Each ticked box as "1. in fermata / in sosta"."""
    return [f"{n}. {WORDINGS[n]}" for n in numbers(stored)]


def describe(stored: str | None) -> str:
    """One line for a page: the boxes in words, "; "-separated (empty when none is ticked)."""
    return "; ".join(in_words(stored))
