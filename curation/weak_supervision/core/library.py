"""Built-in LFs for generation projects: accept/reject votes on prompt–response pairs.

Each entry is a declarative spec (see `declarative`), added to a project in one action and
editable afterwards like any other LF.
"""

REFUSAL_PHRASES = [
    "i'm sorry",
    "i am sorry",
    "i cannot",
    "i can't",
    "i can not",
    "as an ai",
    "as a language model",
    "i'm unable to",
    "i am unable to",
    "i won't be able to",
]

PII_PATTERN = (
    r"[\w.+-]+@[\w-]+\.[\w.-]+"  # e-mail address
    r"|\+?\d[\d ().-]{8,}\d"  # phone number
    r"|\b\d{3}-\d{2}-\d{4}\b"  # US social security number
    r"|\b(?:\d[ -]?){13,16}\b"  # payment card number
)

GENERATION_LIBRARY: list[dict] = [
    {
        "name": "response_too_short",
        "description": "Responses under 20 characters rarely answer anything.",
        "kind": "length",
        "label": "reject",
        "params": {"field": "response", "unit": "chars", "max": 19},
    },
    {
        "name": "response_too_long",
        "description": "Responses over 600 words ramble.",
        "kind": "length",
        "label": "reject",
        "params": {"field": "response", "unit": "words", "min": 601},
    },
    {
        "name": "refusal_phrase",
        "description": "The response refuses or apologises instead of answering.",
        "kind": "keyword",
        "label": "reject",
        "params": {"field": "response", "keywords": REFUSAL_PHRASES, "whole_word": True},
    },
    {
        "name": "on_topic",
        "description": "The response uses at least 30% of the prompt's words.",
        "kind": "field_overlap",
        "label": "accept",
        "params": {"field": "response", "other": "prompt", "min": 0.3},
    },
    {
        "name": "off_topic",
        "description": "The response shares no word with the prompt.",
        "kind": "field_overlap",
        "label": "reject",
        "params": {"field": "response", "other": "prompt", "max": 0.0},
    },
    {
        "name": "not_english",
        "description": "Under 10% English function words: probably another language.",
        "kind": "stopword_share",
        "label": "reject",
        "params": {"field": "response", "max": 0.1},
    },
    {
        "name": "contains_pii",
        "description": "E-mail addresses, phone, social security or card numbers.",
        "kind": "regex",
        "label": "reject",
        "params": {"field": "response", "pattern": PII_PATTERN},
    },
]

GENERATION_LABELS = ["accept", "reject"]
