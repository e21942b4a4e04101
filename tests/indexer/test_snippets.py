"""indexer.snippets: the searched words marked in the first passages of a text, matched as the index matches them."""

from __future__ import annotations

from indexer import snippets
from indexer.snippets import SnippetWords, snippet


def words(light: str = "", exact: str = "") -> SnippetWords:
    return SnippetWords(light=frozenset(light.split()), exact=frozenset(exact.split()))


def test_inflected_and_accented_forms_are_marked_by_their_light_stem() -> None:
    text = "Sklenjene Pogodbe in pogodbami; Töölepingu lõpetamine."
    assert snippet(text, words(light="pogod toole")) == \
        "Sklenjene <mark>Pogodbe</mark> in <mark>pogodbami</mark>; <mark>Töölepingu</mark> lõpetamine."


def test_exact_words_are_marked_when_no_light_word_is_searched() -> None:
    # a phrase: the light fields hold no positions, so only its exact words are known
    assert snippet("Seja nadzornega sveta.", words(exact="nadzornega sveta")) == \
        "Seja <mark>nadzornega</mark> <mark>sveta</mark>."


def test_a_prefix_that_only_looks_alike_is_not_marked() -> None:
    # `račun` and `računalnik` share a light stem, so both are marked; `rač` alone is not a stem of either
    assert snippet("Račun za računalnik.", words(light="racun")) == "<mark>Račun</mark> za <mark>računalnik</mark>."
    assert snippet("Račun za računalnik.", words(light="rac")) == ""


def test_text_is_escaped_and_only_mark_tags_are_added() -> None:
    out = snippet("Ponudba <script>alert(1)</script> & pogodba", words(light="ponud"))
    assert out == "<mark>Ponudba</mark> &lt;script&gt;alert(1)&lt;/script&gt; &amp; pogodba"


def test_two_passages_at_most_each_bounded() -> None:
    filler = " ".join(["beseda"] * 60)
    text = f"{filler} pogodba {filler} pogodbe {filler} pogodbo {filler}"
    out = snippet(text, words(light="pogod"))
    passages = out.split(snippets.BETWEEN)
    assert len(passages) == 2
    assert "<mark>pogodba</mark>" in passages[0] and "<mark>pogodbe</mark>" in passages[1]
    assert "pogodbo" not in out
    for passage in passages:
        assert len(passage.replace("<mark>", "").replace("</mark>", "")) <= snippets.MAX_CHARS


def test_the_scan_is_bounded() -> None:
    text = "x " * snippets.SCAN_CHARS + "pogodba"
    assert snippet(text, words(light="pogod")) == ""


def test_a_text_whose_folding_changes_its_length_still_lines_up() -> None:
    # İ lower-cases to two characters: the folded text is longer, so tokens are folded one by one
    assert snippet("İstanbul in Pogodba.", words(light="pogod")) == "İstanbul in <mark>Pogodba</mark>."


def test_no_words_no_snippet() -> None:
    assert snippet("Pogodba", words()) == ""
    assert snippet("", words(light="pogod")) == ""
