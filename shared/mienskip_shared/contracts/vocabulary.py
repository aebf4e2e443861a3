"""The fixed vocabularies of DOMAIN.md, shared by every contract that carries them."""

CATEGORIES = (
    "transport", "buddy", "shopping", "odd_jobs", "paperwork", "garden",
    "digital", "pets", "language", "respite", "meals", "other",
)
LANGUAGES = ("nl", "fy", "en", "de", "ar", "tr", "pl", "uk")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
URGENCIES = ("low", "normal", "high", "urgent")
RECIPIENT_KINDS = ("volunteer", "kamer", "resident", "person", "provider")  # person: someone with an account at intake
CHANNELS = ("email", "sms", "webhook", "mailbox")
# Who helps on a request (a volunteer, a professional of a care provider, or both), and
# the kinds of care providers a request can be referred to.
HELPERS = ("volunteer", "professional", "both")
PROVIDER_KINDS = ("wijkteam", "thuiszorg", "schuldhulp", "ggz", "other")

# Why a volunteer could not take a request: the hard rules, in the order matching checks them.
# "reserved_for_series": the time or the week's last task is held for a weekly series the
# volunteer helps, whose next request has not arrived yet. "inactive" after "skills": an
# unmatched request's summary counts those with the skill first ("3 volunteers have the skill;
# 1 × paused or stopped").
RULES = ("region", "skills", "inactive", "transport", "vog", "language", "distance", "availability", "away",
         "capacity", "overlap", "reserved_for_series", "excluded")
# Why the runner-up lost to the chosen volunteer, when no hard rule stopped them.
RUNNER_UP_CAUSES = (
    "further",                    # {km}: further away by this much
    "further_than_continuity",    # {km}: helped last time, but further than the continuity allowance makes up
    "busier",                     # as near, but more tasks this week
    "order",                      # as near and as busy: picked by a fixed order
    "continuity",                 # nearer, but the volunteer of last time comes first
    "taken",                      # needed for another request of the same batch
)
REASON_CODES = RULES + RUNNER_UP_CAUSES

# Why an assignment was declined when the volunteer did not say no themselves.
DECLINE_CODES = ("volunteer_erased",
                 "volunteer_paused",   # the kamer paused them ("active": false)
                 "volunteer_stopped",  # they stopped volunteering
                 "volunteer_away")     # an away period now covers the task's day
