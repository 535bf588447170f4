import numpy as np

from workbench.generate.filters import (Rules, clean_item, exact_duplicates, near_duplicates, normalize,
                                        parse_list, rejection_reason)


def test_parse_continued_list_stops_at_a_new_section():
    text = ' Where is my box?\n7. "My beans are late"\n8) tracking never updated (delivery_status)\nIntent: other\n9. no'
    assert parse_list(text, continuation=True) == ["Where is my box?", "My beans are late", "tracking never updated"]


def test_parse_continued_list_ends_at_a_blank_line():
    assert parse_list(" first one\n7. second\n\n8. after the gap", continuation=True) == ["first one", "second"]


def test_parse_chat_answer_skips_chatter_before_the_list():
    text = "Sure! Here are 3 messages:\n\n1. “Can I skip March?”\n2. - not a number\n- third one\n\nHope this helps"
    assert parse_list(text, continuation=False) == ["Can I skip March?", "- not a number", "third one"]


def test_clean_item_strips_quotes_and_label_annotations():
    assert clean_item('  "Pause my plan please"  (pause_or_skip)') == "Pause my plan please"
    assert clean_item("'it''s fine'") == "it''s fine"


def test_rejection_reasons():
    rules = Rules(min_chars=10, max_chars=60)
    seeds = {"a": {normalize("Where is my box?")}, "b": {normalize("Cancel my plan now")}}
    assert rejection_reason("too short", "a", seeds, rules) == "too_short"
    assert rejection_reason("x" * 61, "a", seeds, rules) == "too_long"
    assert rejection_reason("Here are more messages:", "a", seeds, rules) == "chatter"
    assert rejection_reason("where is my BOX", "a", seeds, rules) == "copy_of_seed"
    assert rejection_reason("Cancel my plan, now!", "a", seeds, rules) == "other_label_seed"
    assert rejection_reason("the roast the roast the roast the roast", "a", seeds, rules) == "repetitive"
    assert rejection_reason("My grinder squeaks a lot", "a", seeds, rules) is None
    assert rejection_reason("Sure, I can help with that.", None, {}, Rules(5, 99, chatter=False)) is None


def test_exact_duplicates_ignore_case_and_punctuation():
    assert exact_duplicates(["Hi there!", "hi there", "Hello"]) == [False, True, False]


def test_near_duplicates_compare_with_seeds_and_earlier_kept_rows():
    def unit(v):
        v = np.asarray(v, dtype=np.float32)
        return v / np.linalg.norm(v)

    seeds = [unit([1, 0, 0])]
    rows = [unit([0.99, 0.1, 0]),  # near the seed: dropped
            unit([0, 1, 0]),       # new: kept
            unit([0, 0.99, 0.1]),  # near the kept row above: dropped
            unit([0, 0, 1])]       # new: kept
    drop, sims = near_duplicates(rows, seeds, threshold=0.95)
    assert drop == [True, False, True, False]
    assert sims[0] > 0.95 and sims[1] == 0.0 and sims[3] < 0.2
