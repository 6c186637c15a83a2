"""Contact rules without a database: what a valid record is, how it is named,
and how an edit turns into history lines."""

from datetime import date

import pytest
from hypothesis import given, strategies as st

from plateau.domain.contacts import (EDITABLE, PhoneInput, clean_contact, clean_note, diff, display_name,
                                     formal_name, history_text, parse_phones_text, phones_changed)
from plateau.domain.errors import ValidationError


def _errors(data, phones=()):
    with pytest.raises(ValidationError) as info:
        clean_contact(data, list(phones))
    return info.value.errors


def test_a_person_is_normalised():
    clean = clean_contact({"civility": "Mme", "first_name": "  Hélène ", "last_name": "Lefèvre-Dupont",
                           "email": " Helene.Lefevre@Example.FR ", "postcode": "69003", "country": "fr",
                           "tags": "vip; relance, vip ,", "consent_call": "oui", "consent_email": "Non",
                           "opposition": "", "birth_date": "14/02/1980", "prospect_temperature": "Tiède",
                           "status": "Client", "company_id": "12"},
                          [PhoneInput("06 12 34 56 78", "mobile"), PhoneInput("+33 6 12 34 56 78", "home"),
                           PhoneInput("", "work"), PhoneInput("01 44 55 66 77", "fax")])
    v = clean.values
    assert (v["first_name"], v["email"], v["country"], v["postcode"]) == (
        "Hélène", "helene.lefevre@example.fr", "FR", "69003")
    assert v["tags"] == ["relance", "vip"] and v["birth_date"] == date(1980, 2, 14)
    assert (v["consent_call"], v["consent_email"], v["opposition"]) == (True, False, False)
    assert (v["prospect_temperature"], v["status"], v["kind"], v["company_id"]) == ("warm", "client", "person", 12)
    # the same number twice is kept once; an unknown label becomes "other"
    assert clean.phones == [("+33612345678", "mobile"), ("+33144556677", "other")]
    assert clean.search_name == "lefevre dupont helene"
    assert set(v) == set(EDITABLE)


def test_national_numbers_read_in_the_record_country():
    clean = clean_contact({"last_name": "Alaoui", "country": "MA", "postcode": "20250"},
                          [PhoneInput("06 61 23 45 67")])
    assert clean.phones == [("+212661234567", "mobile")]


@pytest.mark.parametrize("data, phones, field", [
    ({"first_name": "Karim"}, [], "last_name"),
    ({"kind": "company"}, [], "company_name"),
    ({"last_name": "X", "email": "pas-un-email"}, [], "email"),
    ({"last_name": "X", "postcode": "750"}, [], "postcode"),
    ({"last_name": "X", "country": "BE", "postcode": "75011"}, [], "postcode"),
    ({"last_name": "X", "birth_date": "31/02/1980"}, [], "birth_date"),
    ({"last_name": "X", "birth_date": "1850-01-01"}, [], "birth_date"),
    ({"last_name": "X", "status": "ami"}, [], "status"),
    ({"last_name": "X", "prospect_temperature": "bouillant"}, [], "prospect_temperature"),
    ({"last_name": "X", "consent_call": "peut-être"}, [], "consent_call"),
    ({"last_name": "X", "company_id": "abc"}, [], "company_id"),
    ({"last_name": "X", "country": "ZZ"}, [], "country"),
    ({"last_name": "X"}, [PhoneInput("06 12 34 56 78"), PhoneInput("06 12")], "phone_1"),
])
def test_each_bad_field_is_named_with_a_message(data, phones, field):
    errors = _errors(data, phones)
    assert field in errors and errors[field].render()


def test_every_bad_field_is_reported_at_once():
    errors = _errors({"email": "x@", "postcode": "1"}, [PhoneInput("abc")])
    assert set(errors) == {"last_name", "email", "postcode", "phone_0"}
    assert "abc" in errors["phone_0"].render()


def test_names_as_cards_and_announcements_say_them():
    class Row:
        def __init__(self, **kw):
            self.__dict__.update({"kind": "person", "civility": None, "first_name": None, "last_name": None,
                                  "company_name": None, **kw})

    karim = Row(civility="M.", first_name="Karim", last_name="Benali")
    assert display_name(karim) == "Karim Benali" and formal_name(karim) == "Monsieur Karim Benali"
    company = Row(kind="company", civility="Mme", company_name="Énergie Sud SARL")
    assert display_name(company) == formal_name(company) == "Énergie Sud SARL"
    assert formal_name(Row(last_name="Haddad")) == "Haddad"


def test_history_text_is_language_neutral():
    assert history_text("opposition", True) == "true" and history_text("opposition", False) == "false"
    assert history_text("birth_date", date(1980, 2, 14)) == "1980-02-14"
    assert history_text("tags", ["relance", "vip"]) == "relance, vip"
    assert history_text("city", "") is None and history_text("tags", []) is None
    assert history_text("phones", [("+33612345678", "mobile"), ("+212661234567", "home")]) == \
        "+33612345678 mobile; +212661234567 home"


def test_diff_reports_only_real_changes():
    old = {"city": "Paris", "email": None, "tags": ["b", "a"], "consent_call": False, "segment": ""}
    new = {"city": "Lyon", "email": "", "tags": ["a", "b"], "consent_call": True, "segment": None}
    assert diff(old, new) == [("city", "Paris", "Lyon"), ("consent_call", "false", "true")]


def test_phones_compare_as_a_set():
    a = [("+33612345678", "mobile"), ("+33144556677", "home")]
    assert not phones_changed(a, list(reversed(a)))
    assert phones_changed(a, [("+33612345678", "work"), ("+33144556677", "home")])
    assert phones_changed(a, a[:1])


_e164 = st.from_regex(r"\+[1-9][0-9]{7,13}", fullmatch=True)
_label = st.sampled_from(["mobile", "home", "work", "other"])


@given(st.lists(st.tuples(_e164, _label), max_size=5))
def test_phone_history_text_reads_back(pairs):
    assert parse_phones_text(history_text("phones", pairs)) == pairs


@given(st.dictionaries(st.sampled_from(EDITABLE), st.one_of(st.none(), st.text(max_size=5), st.booleans())))
def test_a_record_never_differs_from_itself(values):
    assert diff(values, dict(values)) == []


def test_notes_are_trimmed_and_never_empty():
    assert clean_note("  Rappeler demain  ") == "Rappeler demain"
    for body in ("", "   ", None, "x" * 5001):
        with pytest.raises(ValidationError) as info:
            clean_note(body)
        assert "body" in info.value.errors


# --- the fast path for e-mail addresses agrees with email_validator ---------------------

from hypothesis import given, settings, strategies as st  # noqa: E402
from email_validator import EmailNotValidError, validate_email  # noqa: E402

from plateau.domain.contacts import clean_email  # noqa: E402

_atoms = st.text(alphabet="abcXYZ019_%+-.", min_size=1, max_size=12)
_labels = st.text(alphabet="abz09-", min_size=1, max_size=10)
_tlds = st.sampled_from(["fr", "com", "ma", "dz", "test", "local", "c", "x1", "onion", "museum"])


@settings(max_examples=400, deadline=None)
@given(_atoms, st.lists(_labels, min_size=1, max_size=3), _tlds)
def test_plain_email_fast_path_agrees_with_email_validator(local, labels, tld):
    address = f"{local}@{'.'.join(labels)}.{tld}"
    try:
        expected = validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        expected = None
    errors: dict = {}
    assert clean_email(address, errors) == expected
    assert ("email" in errors) == (expected is None)


@pytest.mark.parametrize("address, expected", [
    ("A.B@Exemple.FR", "a.b@exemple.fr"),
    ("karim.benali+facture@energie-horizon.fr", "karim.benali+facture@energie-horizon.fr"),
    ("x@ab--c.fr", None),  # IDNA reserves "--" in 3rd-4th place
    ("x@printer.local", None),  # special-use domain
    (".a@b.fr", None),
    ("a..b@c.fr", None),
    ("a@-b.fr", None),
    ("é@exemple.fr", "é@exemple.fr"),  # not plain: judged by email_validator
])
def test_email_examples(address, expected):
    errors: dict = {}
    assert clean_email(address, errors) == expected
