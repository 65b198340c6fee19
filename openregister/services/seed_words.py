"""The vocabulary of seeded conversations: a few hundred everyday words of a public service desk,
combined into questions and answers so that searching seeded data finds something."""

NOUNS = """
permit licence passport application appointment invoice payment refund receipt contract
subscription account password address registration certificate declaration deadline fee fine
form document report request complaint notice letter message reminder schedule calendar
budget grant subsidy allowance benefit pension insurance mortgage loan tax deduction
parking bicycle vehicle garage street bridge road tram station train ticket route
library museum theatre school course exam lesson teacher student classroom
hospital clinic doctor nurse prescription vaccine pharmacy dentist therapy
building roof window kitchen garden fence heating boiler meter electricity water waste
recycling container bin collection neighbourhood district market festival event
register archive record database dataset file folder attachment signature stamp
office desk counter department manager colleague employee volunteer resident citizen
council municipality province ministry agency court lawyer notary tenant landlord
zoning plan project proposal objection hearing decision verdict appeal policy rule
storm flood drought heatwave snow ice leaves noise smell light
""".split()

VERBS = """
renew apply submit cancel change update check pay request register report book
collect deliver download upload print sign send receive approve reject extend transfer
replace repair inspect install remove move plan calculate compare confirm correct
""".split()

PAST = """
renewed submitted cancelled changed updated checked paid requested registered reported
booked collected delivered approved rejected extended transferred replaced repaired
inspected installed removed moved planned calculated confirmed corrected signed sent
""".split()

ADJECTIVES = """
new old temporary permanent digital paper annual monthly weekly urgent late early
expensive cheap free public private local national regional missing wrong correct
complete incomplete official informal shared personal small large quiet busy green
electric historic modern careful simple complicated fair
""".split()

PLACES = """
Amsterdam Rotterdam Utrecht Groningen Eindhoven Tilburg Almere Breda Nijmegen Arnhem
Haarlem Enschede Zwolle Leiden Maastricht Delft Deventer Leeuwarden Alkmaar Amersfoort
""".split()

TIMES = """
today tomorrow tonight yesterday soon later
""".split() + [
    "this week", "next week", "next month", "before Friday", "after the holidays", "within ten days",
    "by the end of the year", "on Monday morning", "in the spring", "every other week",
]

USER_TEMPLATES = (
    "How do I {verb} the {adj} {noun} for my {noun2}?",
    "Can you explain why my {noun} was {past} when the {noun2} is still {adj}?",
    "What is the best way to {verb} a {noun} in {place}?",
    "Is there a {adj} {noun} that I can {verb} {time}?",
    "Where can I find the {noun} about the {noun2} and the {noun3}?",
    "I need help to {verb} my {noun} after the {noun2} was {past}.",
    "Who should I contact to {verb} the {noun} of our {noun2} in {place}?",
    "Why does the {noun} cost more than the {adj} {noun2}?",
    "Could you {verb} my {noun} {time}, please?",
    "What happens to my {noun} if the {noun2} is {adj}?",
)

ASSISTANT_TEMPLATES = (
    "You can {verb} the {noun} at the {noun2} office in {place} {time}.",
    "The {adj} {noun} usually depends on the {noun2} and the {noun3}.",
    "First {verb} your {noun}, then check the {adj} {noun2}.",
    "Most {noun} requests are {adj} when the {noun2} is {adj2}.",
    "Please note that the {noun} must be {past} by the {noun2} {time}.",
    "If the {noun} is {adj}, contact the {noun2} department in {place}.",
    "The {adj} {noun} is {past} within a few days, and you receive a {noun2} by email.",
    "The {noun} of the {noun2} is listed in the {adj} {noun3} register.",
    "You do not need to {verb} the {noun} again unless the {noun2} has {past}.",
    "In {place} the {noun} for a {noun2} is {adj} for residents.",
)
