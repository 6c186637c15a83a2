"""Reading CSV files of contacts: encodings, delimiters, column names, row verdicts."""

from pathlib import Path

import pytest

from plateau.domain import csv_import
from plateau.domain.contacts import PhoneInput, clean_contact
from plateau.domain.csv_import import (Existing, RowReader, UnusableFile, apply_overrides, auto_map, check_mapping,
                                       decode, export_headers, find_duplicates, read_table, safe_cell,
                                       sniff_delimiter)

DATA = Path(__file__).parents[1] / "data" / "csv"


# --- encodings ----------------------------------------------------------------------


def test_utf8_is_read_as_utf8():
    decoded = decode("Nom;Prénom\nLefèvre;Zoé\n".encode("utf-8"))
    assert decoded.encoding == "utf-8"
    assert "Lefèvre" in decoded.text


def test_utf8_with_bom_loses_its_bom():
    decoded = decode((DATA / "utf8_bom.csv").read_bytes())
    assert decoded.encoding == "utf-8-sig"
    assert decoded.text.startswith("Nom;")


def test_windows_1252_is_detected_and_accents_survive():
    data = (DATA / "windows1252.csv").read_bytes()
    assert "Lefèvre".encode("cp1252") in data
    decoded = decode(data)
    assert decoded.encoding == "cp1252"
    assert "Lefèvre,Hélène" in decoded.text and "Besançon" in decoded.text


@pytest.mark.parametrize("data", [(DATA / "utf16.csv").read_bytes(), "Nom;Prénom\nLefèvre;Zoé\n".encode("utf-16-le")])
def test_utf16_is_refused_with_the_encoding_named(data):
    with pytest.raises(UnusableFile) as refused:
        decode(data)
    assert "UTF-16" in refused.value.render()


def test_binary_is_refused():
    with pytest.raises(UnusableFile) as refused:
        decode(b"PK\x03\x04" + bytes(range(256)) * 4)
    assert "octet nul" in refused.value.render()


def test_a_file_in_neither_encoding_says_where_both_fail():
    # 0xE9 alone is not UTF-8; 0x81 does not exist in Windows-1252
    with pytest.raises(UnusableFile) as refused:
        decode(b"Nom;Ville\nCaf\xe9;Paris\nX\x81;Lyon\n")
    message = refused.value.render()
    assert "ni en UTF-8" in message and "0xE9" in message and "0x81" in message and "ligne 3" in message


def test_a_forced_encoding_that_does_not_fit_is_refused():
    with pytest.raises(UnusableFile) as refused:
        decode("Nom\nLefèvre\n".encode("cp1252"), "utf-8")
    assert "pas en UTF-8" in refused.value.render() and "ligne 2" in refused.value.render()
    assert decode("Nom\nLefèvre\n".encode("cp1252"), "windows-1252").text == "Nom\nLefèvre\n"


def test_an_empty_file_is_refused():
    with pytest.raises(UnusableFile):
        decode(b"\xef\xbb\xbf\r\n")


# --- delimiters and rows ---------------------------------------------------------------


@pytest.mark.parametrize("header, expected", [
    ("Nom;Prénom;Téléphone", ";"),
    ("Nom,Prénom,Téléphone", ","),
    ('"Nom, prénom";Ville', ";"),
    ('"Nom; prénom",Ville,CP', ","),
    ("Nom", ";"),
])
def test_the_delimiter_is_sniffed_from_the_header(header, expected):
    assert sniff_delimiter(header) == expected


def test_rows_carry_their_line_in_the_file():
    table = read_table(b'Nom;Adresse\nA;"1 rue X\nBat. B"\n\nB;2 rue Y\n')
    assert table.headers == ["Nom", "Adresse"]
    assert list(table.rows()) == [(2, ["A", "1 rue X\nBat. B"]), (5, ["B", "2 rue Y"])]


def test_a_forced_delimiter_wins():
    table = read_table(b"Nom;Ville,CP\nA;B,C\n", delimiter=",")
    assert table.headers == ["Nom;Ville", "CP"]


# --- mapping ------------------------------------------------------------------------


def test_french_and_english_headers_map_to_fields():
    headers = ["NOM", "prenom", "Tél. mobile", "Portable", "Téléphone fixe", "Fax", "E-mail", "cp", "Ville",
               "N° client", "Civilité", "Raison sociale", "Segment", "Température", "Statut", "Date de naissance",
               "Consentement appel", "Opposition", "Étiquettes", "Commentaire"]
    assert dict(zip(headers, auto_map(headers))) == {
        "NOM": "last_name", "prenom": "first_name", "Tél. mobile": "phone_1", "Portable": "phone_2",
        "Téléphone fixe": "phone_3", "Fax": "", "E-mail": "email", "cp": "postcode", "Ville": "city",
        "N° client": "customer_number", "Civilité": "civility", "Raison sociale": "company_name",
        "Segment": "segment", "Température": "prospect_temperature", "Statut": "status",
        "Date de naissance": "birth_date", "Consentement appel": "consent_call", "Opposition": "opposition",
        "Étiquettes": "tags", "Commentaire": ""}


def test_synonyms_and_first_column_wins():
    headers = ["last_name", "First Name", "Courriel", "Code postal", "Société", "Email", "Phone", "Tel 2"]
    assert auto_map(headers) == ["last_name", "first_name", "email", "postcode", "company_name", "", "phone_1",
                                 "phone_2"]


def test_a_fourth_phone_column_is_left_unmapped():
    assert auto_map(["Nom", "Tél 1", "Tél 2", "Tél 3", "Tél 4"]) == ["last_name", "phone_1", "phone_2", "phone_3", ""]


def test_the_export_header_maps_back_to_itself():
    mapping = auto_map(export_headers())
    assert "last_name" in mapping and "company_ref" in mapping and "phones_more" in mapping
    assert [m for m in mapping if m.startswith("phone_")] == ["phone_1", "phone_1_label", "phone_2", "phone_2_label",
                                                             "phone_3", "phone_3_label"]
    national = [h for h, m in zip(export_headers(), mapping) if "national" in h]
    assert len(national) == 3 and all(mapping[export_headers().index(h)] == "" for h in national)


def test_without_a_name_column_the_mapping_is_refused_with_the_columns_listed():
    headers = ["Prénom", "Téléphone"]
    with pytest.raises(UnusableFile) as refused:
        check_mapping(headers, auto_map(headers))
    message = refused.value.render()
    assert "« Nom »" in message and "« Raison sociale »" in message and "Prénom, Téléphone" in message


def test_two_columns_on_one_field_are_refused_by_name():
    with pytest.raises(UnusableFile) as refused:
        check_mapping(["Nom", "Nom de jeune fille"], ["last_name", "last_name"])
    assert "« Nom » et « Nom de jeune fille »" in refused.value.render()


def test_overrides_by_column_name_or_number():
    headers = ["Nom", "Tél. perso", "Fax"]
    mapping = apply_overrides(headers, auto_map(headers), ["tel perso=phone_2", "3=Téléphone 1"])
    assert mapping == ["last_name", "phone_2", "phone_1"]
    assert apply_overrides(headers, mapping, ["Fax=ignorer"]) == ["last_name", "phone_2", ""]
    with pytest.raises(UnusableFile, match="absente"):
        apply_overrides(headers, mapping, ["Mobile=phone_1"])
    with pytest.raises(UnusableFile, match="inconnu"):
        apply_overrides(headers, mapping, ["Fax=fax_number"])
    with pytest.raises(UnusableFile, match="COLONNE=champ"):
        apply_overrides(headers, mapping, ["Fax"])


# --- rows ------------------------------------------------------------------------------


def _reader(headers):
    return RowReader(headers, auto_map(headers))


def test_a_bad_phone_names_its_column_and_value():
    verdict = _reader(["Nom", "Téléphone", "Portable"]).read(7, ["Dupont", "06 12 34 56 78", "12"])
    assert not verdict.ok
    assert [r.render() for r in verdict.reasons] == ["Portable : « 12 » n'est pas un numéro valide (FR)."]


def test_a_missing_name_and_a_bad_email_are_both_reported():
    verdict = _reader(["Nom", "Prénom", "E-mail"]).read(3, ["", "Jean", "jean@"])
    rendered = [r.render() for r in verdict.reasons]
    assert "Nom : Le nom est obligatoire." in rendered
    assert any(r.startswith("E-mail : « jean@ »") for r in rendered)


def test_a_row_wider_than_the_header_is_refused():
    verdict = _reader(["Nom", "Ville"]).read(2, ["Dupont", "Jean", "Paris"])
    assert "3 colonnes" in verdict.reasons[0].render()
    assert _reader(["Nom", "Ville"]).read(2, ["Dupont", "Paris", ""]).ok


def test_a_row_with_only_a_company_name_is_a_company():
    verdict = _reader(["Nom", "Raison sociale"]).read(2, ["", "Énergie Sud SARL"])
    assert verdict.ok and verdict.clean.values["kind"] == "company"
    assert _reader(["Type", "Nom", "Raison sociale"]).read(2, ["", "", "Énergie Sud SARL"]).ok
    refused = _reader(["Type", "Nom", "Raison sociale"]).read(2, ["Personne", "", "Énergie Sud SARL"])
    assert [r.render() for r in refused.reasons] == ["Nom : Le nom est obligatoire."]


def test_the_row_is_cleaned_exactly_as_clean_contact_does():
    verdict = _reader(["Nom", "Prénom", "Portable", "Tél. bureau"]).read(2, ["Lefèvre", "Zoé", "06 12 34 56 78",
                                                                             "01 23 45 67 89"])
    expected = clean_contact({"last_name": "Lefèvre", "first_name": "Zoé"},
                             [PhoneInput("06 12 34 56 78", "mobile"), PhoneInput("01 23 45 67 89", "work")])
    assert verdict.clean == expected
    assert verdict.clean.search_name == "lefevre zoe"


def test_a_plain_phone_column_is_labelled_by_the_kind_of_number():
    reader = _reader(["Nom", "Téléphone", "Tél. 2", "Type du téléphone 2"])
    assert reader.read(2, ["A", "01 23 45 67 89", "06 12 34 56 78", ""]).clean.phones == [
        ("+33123456789", "home"), ("+33612345678", "mobile")]
    assert reader.read(3, ["B", "+212 6 61 23 45 67", "01 23 45 67 89", "Travail"]).clean.phones == [
        ("+212661234567", "mobile"), ("+33123456789", "work")]


def _verdicts(rows, headers=("Nom", "Téléphone", "E-mail", "N° client")):
    reader = _reader(list(headers))
    return [reader.read(line, cells) for line, cells in rows]


def test_duplicates_in_the_file_and_in_the_database():
    verdicts = _verdicts([(2, ["A", "06 12 34 56 78", "a@example.fr", "C1"]),
                          (3, ["B", "+33 6 12 34 56 78", "", ""]),
                          (4, ["C", "", "A@Example.fr", ""]),
                          (5, ["D", "", "", "C1"]),
                          (6, ["E", "06 11 11 11 11", "", ""]),
                          (7, ["F", "", "old@example.fr", ""]),
                          (8, ["G", "", "", "OLD-1"])])
    find_duplicates(verdicts, Existing(phones={"+33611111111": 41}, emails={"old@example.fr": 42},
                                       numbers={"OLD-1": (43, "person")}))
    reasons = {v.line: [r.render() for r in v.reasons] for v in verdicts}
    assert reasons[2] == []
    assert reasons[3] == ["Doublon de la ligne 2 du fichier (même téléphone +33612345678)."]
    assert reasons[4] == ["Doublon de la ligne 2 du fichier (même e-mail a@example.fr)."]
    assert reasons[5] == ["Le n° client C1 est déjà celui de la ligne 2 du fichier."]
    assert reasons[6] == ["Doublon du contact n° 41 (même téléphone +33611111111)."]
    assert reasons[7] == ["Doublon du contact n° 42 (même e-mail old@example.fr)."]
    assert reasons[8] == ["Le n° client OLD-1 existe déjà (contact n° 43)."]


def test_a_person_points_at_its_company_by_customer_number():
    headers = ["Nom", "Raison sociale", "Type", "N° client", "N° client de l'entreprise"]
    verdicts = _verdicts([(2, ["Benali", "", "Personne", "P1", "E1"]),
                          (3, ["", "Énergie Sud", "Entreprise", "E1", ""]),
                          (4, ["Durand", "", "Personne", "P2", "NOPE"]),
                          (5, ["Roux", "", "Personne", "P3", "P1"])], headers)
    find_duplicates(verdicts, Existing())
    assert verdicts[0].ok and verdicts[1].ok
    assert "NOPE introuvable" in verdicts[2].reasons[0].render()
    assert "P1 introuvable" in verdicts[3].reasons[0].render()  # P1 is a person, not a company
    in_database = _verdicts([(2, ["Roux", "", "Personne", "P3", "P1"]), (3, ["Petit", "", "Personne", "P4", "E9"])],
                            headers)
    find_duplicates(in_database, Existing(numbers={"P1": (9, "person"), "E9": (10, "company")}))
    assert [r.render() for r in in_database[0].reasons] == [
        "N° client de l'entreprise : Le contact n° client P1 n'est pas une entreprise."]
    assert in_database[1].ok


# --- export cells ----------------------------------------------------------------------


def test_formulas_are_quoted_on_export_and_unquoted_on_import():
    assert safe_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert safe_cell("+33612345678") == "+33612345678"
    assert safe_cell("-cmd|x") == "'-cmd|x"
    assert safe_cell("'t Hooft") == "'t Hooft"
    verdict = _reader(["Nom", "Ville"]).read(2, ["'=Dupont", "'t Zand"])
    assert verdict.clean.values["last_name"] == "=Dupont" and verdict.clean.values["city"] == "'t Zand"


def test_labels_are_translatable_per_slot():
    assert csv_import.target_label("phone_2") == "Téléphone 2"
    assert csv_import.target_label("phone_3_label") == "Type du téléphone 3"
    assert csv_import.target_label("last_name") == "Nom"
