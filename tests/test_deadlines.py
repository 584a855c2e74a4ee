"""The legal terms (workflows/deadlines.py), with dates worked by hand on the calendar.

2026 starts on a Thursday; the holidays met below: Easter Monday 06/04/2026,
25 April, 1 May, 2 June, 15 August, 4 October (again a national holiday from 2026),
1 November, 8 December, 25 and 26 December, 1 January.
"""
from __future__ import annotations

import datetime as dt

import pytest

from workflows import deadlines as d


def day(text: str) -> dt.date:
    dd, mm, yyyy = text.split("/")
    return dt.date(int(yyyy), int(mm), int(dd))


SHIFT = "scadenza spostata al primo giorno non festivo"

# (received, signed by both, injuries, due, what the basis says besides the start)
OFFER_PLAIN = [
    # 60 days: 02/01 + 29 = 31/01, + 28 = 28/02, + 3 = 03/03 (a Tuesday)
    ("02/01/2026", False, False, "03/03/2026", None),
    # 30 days, signed by both: 16/03 + 30 = 15/04 (a Wednesday)
    ("16/03/2026", True, False, "15/04/2026", "firmato da entrambi"),
    # 90 days, injuries win over signatures: 25/01 + 90 = 25/04 (Liberation Day, a Saturday),
    # 26/04 Sunday -> Monday 27/04
    ("25/01/2026", True, True, "27/04/2026", "festivo (Anniversario della Liberazione)"),
    # 30 days: 06/03 + 30 = 05/04 Easter Sunday, 06/04 Easter Monday -> 07/04
    ("06/03/2026", True, False, "07/04/2026", "il 05/04/2026 è domenica"),
    # 60 days: 02/03 + 60 = 01/05 (Labour Day, Friday) -> Saturday 02/05, an ordinary day
    ("02/03/2026", False, False, "02/05/2026", "festivo (Festa del Lavoro)"),
    # 30 days: 03/05 + 30 = 02/06 (Republic Day, Tuesday) -> 03/06
    ("03/05/2026", True, False, "03/06/2026", "festivo (Festa della Repubblica)"),
    # 30 days: 16/07 + 30 = 15/08 (a Saturday, Assumption), 16/08 Sunday -> 17/08
    ("16/07/2026", True, False, "17/08/2026", "festivo (Assunzione"),
    # 30 days: 04/09/2027 + 30 = 04/10/2027 (St Francis, a Monday) -> 05/10/2027
    ("04/09/2027", True, False, "05/10/2027", "festivo (Festa nazionale di San Francesco"),
    # ... while in 2025 4 October was an ordinary Saturday
    ("04/09/2025", True, False, "04/10/2025", None),
    # 30 days: 02/10/2027 + 30 = 01/11/2027 (All Saints, a Monday) -> 02/11/2027
    ("02/10/2027", True, False, "02/11/2027", "festivo (Ognissanti)"),
    # 60 days: 09/10 + 22 = 31/10, + 30 = 30/11, + 8 = 08/12 (Immaculate Conception, Tuesday) -> 09/12
    ("09/10/2026", False, False, "09/12/2026", "festivo (Immacolata Concezione)"),
    # 30 days: 25/11 + 30 = 25/12 (Friday), 26/12 St Stephen (Saturday), 27/12 Sunday -> 28/12
    ("25/11/2026", True, False, "28/12/2026", "festivo (Natale)"),
    # 30 days: 01/12 + 30 = 31/12 (a Thursday): the year's last day, no move
    ("01/12/2026", True, False, "31/12/2026", None),
    # 30 days: 02/12/2026 + 30 = 01/01/2027 (Friday, New Year) -> Saturday 02/01/2027
    ("02/12/2026", True, False, "02/01/2027", "festivo (Capodanno)"),
    # 30 days across a leap month: 30/01/2028 + 1 = 31/01, + 29 = 29/02/2028 (a Tuesday)
    ("30/01/2028", True, False, "29/02/2028", None),
]


@pytest.mark.parametrize("received, signed, injuries, due, said", OFFER_PLAIN)
def test_the_offer_falls_due_after_30_60_or_90_days_moved_past_sundays_and_holidays(
        received, signed, injuries, due, said):
    term = d.offer_due(day(received), signed_by_both=signed, personal_injury=injuries)
    assert term.due == day(due)
    days = 90 if injuries else 30 if signed else 60
    assert term.basis.startswith(f"{days} giorni dalla ricezione della richiesta danni ({received})")
    assert ("art. 148 c.2 CdA" if injuries else "art. 148 c.1 CdA") in term.basis
    moved = said is not None and ("festivo" in said or "domenica" in said)
    assert (SHIFT in term.basis) == moved
    if said:
        assert said in term.basis


def test_the_issue_example_reads_as_the_call_centre_expects():
    term = d.offer_due(day("03/03/2026"), signed_by_both=False, personal_injury=False, procedure="direct",
                       missing_requested_on=day("12/03/2026"), missing_received_on=day("20/03/2026"))
    # 9 days counted (04/03-12/03), 8 suspended (13/03-20/03), 51 more: 10/05, a Sunday -> 11/05
    assert term.due == day("11/05/2026")
    assert term.basis == ("60 giorni dalla ricezione della richiesta danni (03/03/2026) (art. 148 c.1 CdA); sospeso "
                          "dal 12/03/2026 al 20/03/2026 per integrazione documenti (DPR 254/2006 art. 7); il "
                          "10/05/2026 è domenica: " + SHIFT)


# (procedure, received, injuries, requested, arrived, due)
SUSPEND_OR_RESTART = [
    # direct: 60 + 8 suspended days from 03/03 -> 10/05 Sunday -> 11/05
    ("direct", "03/03/2026", False, "12/03/2026", "20/03/2026", "11/05/2026"),
    # ordinary: 60 days all over again from 20/03: + 11 = 31/03, + 30 = 30/04, + 19 = 19/05 (Tuesday)
    ("ordinary", "03/03/2026", False, "12/03/2026", "20/03/2026", "19/05/2026"),
    # direct with injuries: 90 + 10 from 10/01: + 21 = 31/01, + 28 = 28/02, + 31 = 31/03, + 20 = 20/04 (Monday)
    ("direct", "10/01/2026", True, "20/01/2026", "30/01/2026", "20/04/2026"),
    # ordinary with injuries: 90 from 30/01: + 29 = 28/02, + 31 = 31/03, + 30 = 30/04 (Thursday)
    ("ordinary", "10/01/2026", True, "20/01/2026", "30/01/2026", "30/04/2026"),
    # items asked and sent the same day: nothing suspended
    ("direct", "02/01/2026", False, "10/01/2026", "10/01/2026", "03/03/2026"),
]


@pytest.mark.parametrize("procedure, received, injuries, requested, arrived, due", SUSPEND_OR_RESTART)
def test_missing_items_suspend_the_direct_term_and_restart_the_ordinary_one(
        procedure, received, injuries, requested, arrived, due):
    term = d.offer_due(day(received), signed_by_both=False, personal_injury=injuries, procedure=procedure,
                       missing_requested_on=day(requested), missing_received_on=day(arrived))
    assert term.due == day(due)
    if procedure == "direct":
        assert f"sospeso dal {requested} al {arrived}" in term.basis
    else:
        assert term.basis.startswith(f"{90 if injuries else 60} giorni (") and \
            f"dalla ricezione dell'integrazione documenti ({arrived})" in term.basis
        assert "ricomincia da capo" in term.basis


@pytest.mark.parametrize("procedure", ["direct", "ordinary"])
def test_a_request_for_missing_items_after_30_days_moves_nothing(procedure):
    # received 05/01/2026: day 30 is 04/02 (a Wednesday); asked on 05/02, day 31: the 60 days
    # still end on 06/03/2026 (05/01 + 26 = 31/01, + 28 = 28/02, + 6 = 06/03, a Friday)
    late = d.offer_due(day("05/01/2026"), signed_by_both=False, personal_injury=False, procedure=procedure,
                       missing_requested_on=day("05/02/2026"))
    assert late.due == day("06/03/2026") and "oltre i 30 giorni (ultimo giorno utile il 04/02/2026)" in late.basis
    # asked on day 30 (04/02): it counts, and nothing has arrived yet
    assert d.offer_due(day("05/01/2026"), signed_by_both=False, personal_injury=False, procedure=procedure,
                       missing_requested_on=day("04/02/2026")).due is None


@pytest.mark.parametrize("procedure, words", [("direct", "sospeso dal 12/03/2026"),
                                              ("ordinary", "ricomincia da capo dal giorno in cui l'integrazione "
                                                           "arriva alla compagnia")])
def test_while_the_missing_items_have_not_arrived_there_is_no_offer_due_date(procedure, words):
    term = d.offer_due(day("03/03/2026"), signed_by_both=True, personal_injury=False, procedure=procedure,
                       missing_requested_on=day("12/03/2026"))
    assert term.due is None
    assert words in term.basis and term.basis.startswith("30 giorni dalla ricezione")


def test_inconsistent_dates_and_unknown_procedures_are_refused():
    with pytest.raises(ValueError):
        d.offer_due(day("03/03/2026"), signed_by_both=False, personal_injury=False, procedure="card")
    with pytest.raises(ValueError):
        d.offer_due(day("03/03/2026"), signed_by_both=False, personal_injury=False, missing_requested_on=day("01/03/2026"))
    with pytest.raises(ValueError):
        d.offer_due(day("03/03/2026"), signed_by_both=False, personal_injury=False, missing_requested_on=day("10/03/2026"),
                    missing_received_on=day("09/03/2026"))


PAYMENT = [
    # 01/06 + 15 = 16/06 (Tuesday)
    ("01/06/2026", "16/06/2026"),
    # 18/05 + 13 = 31/05, + 2 = 02/06 (Republic Day) -> 03/06
    ("18/05/2026", "03/06/2026"),
    # 10/12 + 15 = 25/12 Christmas, 26/12 St Stephen, 27/12 Sunday -> 28/12
    ("10/12/2026", "28/12/2026"),
    # 17/12/2026 + 14 = 31/12, + 1 = 01/01/2027 (New Year) -> Saturday 02/01/2027
    ("17/12/2026", "02/01/2027"),
    # 22/03/2026 + 15 = 06/04 Easter Monday -> 07/04
    ("22/03/2026", "07/04/2026"),
    # 14/02/2028 + 15 = 29/02/2028 (leap year, a Tuesday)
    ("14/02/2028", "29/02/2028"),
]


@pytest.mark.parametrize("received, due", PAYMENT)
def test_payment_is_due_15_days_after_the_answer_to_the_offer_reached_the_insurer(received, due):
    term = d.payment_due(day("01/01/2026"), day(received))
    assert term.due == day(due)
    assert term.basis.startswith(f"15 giorni dalla ricezione della risposta all'offerta da parte della compagnia "
                                 f"({received}, inviata il 01/01/2026")


SUIT = [
    # 60 days: 02/03 + 60 = 01/05 (holiday) -> 02/05 is the term's last day: suit from Sunday 03/05
    ("02/03/2026", False, "03/05/2026", "02/05/2026"),
    # 90 days with injuries: 10/01 + 90 = 10/04 (Friday): suit from 11/04
    ("10/01/2026", True, "11/04/2026", "10/04/2026"),
    # 60 days: 26/10/2026 + 5 = 31/10, + 30 = 30/11, + 25 = 25/12 -> 28/12 last day: suit from 29/12
    ("26/10/2026", False, "29/12/2026", "28/12/2026"),
]


@pytest.mark.parametrize("received, injuries, allowed, last", SUIT)
def test_suit_is_allowed_once_60_or_90_days_from_the_claim_letter_have_run(received, injuries, allowed, last):
    term = d.suit_allowed_from(day(received), personal_injury=injuries)
    assert term.due == day(allowed)
    assert f"decorsi {90 if injuries else 60} giorni dalla ricezione della richiesta danni ({received}, art. 145" \
        in term.basis
    assert f"dal giorno dopo il {last}" in term.basis


PRESCRIPTION = [
    # two years to the day: 15/03/2028 is a Wednesday
    ("15/03/2026", (), "15/03/2028", "2 anni dal sinistro (15/03/2026, art. 2947 c.2 c.c.)"),
    # 29/02/2028 has no 29/02/2030: the month's last day, 28/02/2030 (a Thursday)
    ("29/02/2028", (), "28/02/2030", "il 29/02 non esiste nel 2030: ultimo giorno del mese"),
    # 25/12/2027 Saturday Christmas, 26/12 Sunday -> 27/12/2027
    ("25/12/2025", (), "27/12/2027", "festivo (Natale)"),
    # 01/11/2027 All Saints (Monday) -> 02/11/2027
    ("01/11/2025", (), "02/11/2027", "festivo (Ognissanti)"),
    # 15/08/2026 Saturday Assumption, 16/08 Sunday -> 17/08/2026
    ("15/08/2024", (), "17/08/2026", "festivo (Assunzione"),
    # 25/04/2027 is a Sunday -> 26/04/2027
    ("25/04/2025", (), "26/04/2027", "il 25/04/2027 è domenica"),
    # 17/04/2028 Easter Monday -> 18/04/2028
    ("17/04/2026", (), "18/04/2028", "festivo (Lunedì dell'Angelo)"),
    # 02/06/2027 Republic Day (Wednesday) -> 03/06/2027
    ("02/06/2025", (), "03/06/2027", "festivo (Festa della Repubblica)"),
    # 08/12/2027 Wednesday -> 09/12/2027
    ("08/12/2025", (), "09/12/2027", "festivo (Immacolata Concezione)"),
    # 31/12/2027 is a Friday; 01/01/2028 a holiday, 02/01 a Sunday
    ("31/12/2025", (), "31/12/2027", None),
    ("01/01/2026", (), "03/01/2028", "festivo (Capodanno)"),
    # the last interruption restarts the two years: 05/03/2029 is a Monday
    ("10/05/2025", ("20/01/2026", "05/03/2027"), "05/03/2029",
     "interrotta dalle richieste ricevute dalla compagnia il 20/01/2026, 05/03/2027"),
    # an interruption on a leap day: 28/02/2030
    ("10/10/2027", ("29/02/2028",), "28/02/2030", "il 29/02 non esiste nel 2030"),
    # sent after the right had prescribed (10/01/2026, a Saturday): it interrupts nothing
    ("10/01/2024", ("15/01/2026",), "10/01/2026",
     "la richiesta ricevuta il 15/01/2026 è successiva alla prescrizione e non ha effetto"),
]


@pytest.mark.parametrize("accident, interruptions, due, said", PRESCRIPTION)
def test_the_right_prescribes_two_years_after_the_accident_or_the_last_interruption(
        accident, interruptions, due, said):
    term = d.prescription(day(accident), demands=[day(i) for i in interruptions])
    assert term.due == day(due)
    if said:
        assert said in term.basis


def test_the_holidays_package_knows_4_october_is_a_national_holiday_from_2026():
    assert d.closed_reason(day("04/10/2025")) is None  # a Saturday, then an ordinary day
    assert d.closed_reason(day("04/10/2027")).startswith("festivo")  # a Monday
    assert d.next_open_day(day("04/10/2028")) == day("05/10/2028")  # a Wednesday


def test_saturday_is_an_ordinary_day_and_a_term_is_a_frozen_value():
    assert d.next_open_day(day("02/05/2026")) == day("02/05/2026")
    term = d.payment_due(day("01/06/2026"), day("02/06/2026"))
    with pytest.raises(AttributeError):
        term.due = None


# ---- the facts as they reach their addressee (issue: terms a lawyer can rely on) -------------

def test_the_window_to_ask_for_missing_items_ends_on_the_next_working_day_like_every_term():
    # received 02/01/2026: day 30 is Sunday 01/02, so the window ends on Monday 02/02/2026
    assert d.request_window(day("02/01/2026"))[0] == day("02/02/2026")
    # a request made that Monday counts: the ordinary term restarts from the items' receipt,
    # 10/02 + 18 = 28/02, + 31 = 31/03, + 11 = 11/04/2026 (a Saturday, an ordinary day)
    term = d.offer_due(day("02/01/2026"), signed_by_both=False, personal_injury=False,
                       missing_requested_on=day("02/02/2026"), missing_received_on=day("10/02/2026"))
    assert term.due == day("11/04/2026")
    assert "oltre i 30 giorni" not in term.basis and "ricomincia da capo" in term.basis


# (procedure, received, requested, items received, due, what the basis says)
SUSPEND_OR_RESTART_ACROSS_HOLIDAYS = [
    # direct, 30 days (signed by both): 7 days suspended (27/10-02/11), 16/10 + 37 = 22/11/2026,
    # a Sunday -> Monday 23/11
    ("direct", "16/10/2026", "26/10/2026", "02/11/2026", "23/11/2026", "il 22/11/2026 è domenica"),
    # ordinary: 30 days all over again from 02/11 (the day after All Saints): 02/12/2026, a Wednesday
    ("ordinary", "16/10/2026", "26/10/2026", "02/11/2026", "02/12/2026", "ricomincia da capo"),
]


@pytest.mark.parametrize("procedure, received, requested, arrived, due, said", SUSPEND_OR_RESTART_ACROSS_HOLIDAYS)
def test_a_suspension_against_a_restart_across_holidays(procedure, received, requested, arrived, due, said):
    term = d.offer_due(day(received), signed_by_both=True, personal_injury=False, procedure=procedure,
                       missing_requested_on=day(requested), missing_received_on=day(arrived))
    assert term.due == day(due) and said in term.basis


def test_the_suit_date_follows_the_offer_term_restarted_by_the_missing_items():
    # filed 02/03/2026, items asked 20/03 and received 10/04: the offer is due 10/04 + 60 = 09/06;
    # 60 days from the filing would allow suit from 03/05, but not before the offer term has run
    offer = d.offer_due(day("02/03/2026"), signed_by_both=False, personal_injury=False,
                        missing_requested_on=day("20/03/2026"), missing_received_on=day("10/04/2026"))
    assert offer.due == day("09/06/2026")
    suit = d.suit_allowed_from(day("02/03/2026"), personal_injury=False, offer=offer)
    assert suit.due == day("10/06/2026") and "09/06/2026" in suit.basis
    # while the items have not reached the insurer, there is no date yet
    waiting = d.offer_due(day("02/03/2026"), signed_by_both=False, personal_injury=False,
                          missing_requested_on=day("20/03/2026"))
    assert d.suit_allowed_from(day("02/03/2026"), personal_injury=False, offer=waiting).due is None


def test_the_claimants_refusal_of_the_inspection_suspends_the_offer_term():
    refusal = "rifiuto dell'ispezione del veicolo da parte del danneggiato (art. 148 c.3 CdA)"
    # 60 days from 02/03/2026 + 10 suspended (11/03-20/03): 02/03 + 70 = 11/05/2026, a Monday
    ended = d.offer_due(day("02/03/2026"), signed_by_both=False, personal_injury=False,
                        suspensions=[d.Suspension(day("10/03/2026"), day("20/03/2026"), refusal)])
    assert ended.due == day("11/05/2026") and "sospeso dal 10/03/2026 al 20/03/2026 per rifiuto" in ended.basis
    # still refused: no date until it ends
    running = d.offer_due(day("02/03/2026"), signed_by_both=False, personal_injury=False,
                          suspensions=[d.Suspension(day("10/03/2026"), None, refusal)])
    assert running.due is None and "riprende a decorrere quando cessa" in running.basis
    # a refusal after the term had lapsed (02/05) suspends nothing
    late = d.offer_due(day("02/03/2026"), signed_by_both=False, personal_injury=False,
                       suspensions=[d.Suspension(day("10/05/2026"), None, refusal)])
    assert late.due == day("02/05/2026") and "già scaduto" in late.basis
    # overlapping with the direct procedure's suspension, each day counts once: 13/03-25/03 is
    # 13 days, 03/03 + 73 = 15/05/2026 (a Friday)
    both = d.offer_due(day("03/03/2026"), signed_by_both=False, personal_injury=False, procedure="direct",
                       missing_requested_on=day("12/03/2026"), missing_received_on=day("20/03/2026"),
                       suspensions=[d.Suspension(day("15/03/2026"), day("25/03/2026"), refusal)])
    assert both.due == day("15/05/2026")


def test_an_anti_fraud_communication_within_the_term_gives_the_insurer_30_days_from_it():
    # 60 days from 02/01/2026 end on 03/03; a communication of 25/02 moves them to 25/02 + 30 = 27/03
    checked = d.offer_due(day("02/01/2026"), signed_by_both=False, personal_injury=False,
                          fraud_check_on=day("25/02/2026"))
    assert checked.due == day("27/03/2026") and "art. 148 c.2-bis CdA" in checked.basis
    # one after the term moves nothing
    late = d.offer_due(day("02/01/2026"), signed_by_both=False, personal_injury=False,
                       fraud_check_on=day("05/03/2026"))
    assert late.due == day("03/03/2026") and "successiva al termine" in late.basis


def test_the_payment_term_waits_for_the_answer_to_reach_the_insurer():
    term = d.payment_due(day("01/06/2026"), None)
    assert term.due is None and "in attesa di ricevuta" in term.basis


def test_an_offer_left_unanswered_is_paid_within_15_days_once_30_have_run():
    # offer of 01/06/2026: 30 days end on 01/07 (a Wednesday), + 15 = 16/07/2026 (a Thursday)
    term = d.payment_if_unanswered(day("01/06/2026"))
    assert term.due == day("16/07/2026") and "art. 148 c.8 CdA" in term.basis


def test_a_fact_that_is_also_a_crime_prescribes_in_the_longer_term_the_lawyer_chose():
    # 6 years from 10/06/2023: 10/06/2029 is a Sunday -> 11/06/2029
    alone = d.prescription(day("10/06/2023"), years=6, reason="lesioni personali colpose (art. 590 c.p.)")
    assert alone.due == day("11/06/2029")
    assert "art. 2947 c.3 c.c." in alone.basis and "lesioni personali colpose" in alone.basis
    # a demand restarts the same longer term: 05/11/2024 + 6 years = 05/11/2030 (a Tuesday)
    assert d.prescription(day("10/06/2023"), demands=[day("05/11/2024")], years=6).due == day("05/11/2030")


def test_three_demands_in_time_each_restart_the_two_years():
    # accident 10/06/2023; demands received 05/11/2024 and 01/09/2025 (each before the term
    # running then): the right lives until 01/09/2027 (a Wednesday); a third of 01/12/2026, also in
    # time, until 01/12/2028 (a Friday)
    two = d.prescription(day("10/06/2023"), demands=[day("05/11/2024"), day("01/09/2025")])
    assert two.due == day("01/09/2027")
    three = d.prescription(day("10/06/2023"), demands=[day("05/11/2024"), day("01/09/2025"), day("01/12/2026")])
    assert three.due == day("01/12/2028")
