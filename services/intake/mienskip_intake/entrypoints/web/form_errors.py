"""How the desk's forms name the API's problems: the schema's and the domain's messages
(English, as the API sends them) become one code each, worded on the page from the
catalogue (``newreq.error.<code>``). One list for every form, so a rule says the same
thing wherever it is broken."""

from __future__ import annotations

# Whole messages, and the start of messages that carry a value.
PROBLEMS = {"Missing data for required field.": "required", "Shorter than minimum length 1.": "required",
            "lies in the past": "past", "must be after window.start": "end_before_start",
            "must be after start": "end_before_start", "Not a valid email address.": "email"}
STARTS = (("must be a Dutch postcode", "postcode"), ("must be a house number", "house_number"),
          ("must be a letter", "addition"), ("must be a phone number", "phone"), ("give home", "home"))


def problem_of(message: str) -> str:
    """The code of one message of the API's (``invalid`` when it has none of its own)."""
    if "postcode" in message and "known" in message:
        return "postcode_unknown"
    if "never used in a Dutch postcode" in message:
        return "postcode"
    for start, code in STARTS:
        if message.startswith(start):
            return code
    return PROBLEMS.get(message, "invalid")
