"""The fixed vocabularies of DOMAIN.md, shared by every contract that carries them."""

CATEGORIES = (
    "transport", "buddy", "shopping", "odd_jobs", "paperwork", "garden",
    "digital", "pets", "language", "respite", "meals", "other",
)
LANGUAGES = ("nl", "fy", "en", "de", "ar", "tr", "pl", "uk")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
URGENCIES = ("low", "normal", "high", "urgent")
RECIPIENT_KINDS = ("volunteer", "kamer", "resident")
CHANNELS = ("email", "sms", "webhook", "mailbox")
